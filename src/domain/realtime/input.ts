import { newId } from '../../storage/ids.js'
import { Pacer } from '../../pacing.js'
import { appendedAudio, base64Slice, InputAudioBuffer } from './audio.js'
import { bytesOf, InputDecoder, type AudioFormat } from './g711.js'
import { EnergyVad, msOf, samplesOfMs } from './vad.js'
import type { ServerEvent } from './session.js'

/** turn_detection as the session holds it: server_vad with every field (OpenAI's defaults filled). */
export type ServerVad = {
  type: 'server_vad'
  threshold: number
  prefix_padding_ms: number
  silence_duration_ms: number
  create_response: boolean
  interrupt_response: boolean
}

export type InputHooks = {
  settings: () => { input_audio_format: AudioFormat; turn_detection: ServerVad | null }
  emit: (event: ServerEvent) => void
  /** The committed audio (a WAV file) becomes the user item `itemId` (committed, created, transcribed). */
  commit: (wav: Buffer, itemId: string) => void
  /** Speech began (interrupt_response) or a turn ended (create_response). */
  speechStarted: (vad: ServerVad) => void
  turnEnded: (vad: ServerVad) => void
  closed: () => boolean
}

/**
 * A session's input audio: appends decoded from the input format to 24 kHz pcm16, into the buffer,
 * and, with server_vad, through the voice activity detector (vad.ts), which commits each turn.
 * A large append (up to 15 MiB) is decoded and analysed in slices of a second of audio, pacing
 * between them, so the event loop is never held for long.
 */
export class InputAudio {
  private readonly buffer = new InputAudioBuffer()
  private decoder: InputDecoder | undefined
  private vad: { detector: EnergyVad; key: string } | undefined
  /** The turn being spoken: its item's id and where its audio begins (with the prefix padding). */
  private speech: { itemId: string; from: number } | undefined
  private readonly pacer = new Pacer()

  constructor(private readonly hooks: InputHooks) {}

  async append(audio: unknown) {
    const { text, bytes } = appendedAudio(audio)
    const { input_audio_format: format, turn_detection: vad } = this.sync()
    const decoder = this.decoder!
    // waiting for speech, the oldest audio goes to make room: a telephone line may stream silence for long
    this.buffer.reserve(decoder.pcmBytes(bytes), vad !== null && !this.speech)
    // a second of audio a slice: its base64 decoded, its samples converted, analysed and buffered
    const slice = format === 'pcm16' ? 48_000 : 8000
    for (let at = 0; at < text.length; at += (slice / 3) * 4) {
      if (this.hooks.closed()) return
      const samples = decoder.push(base64Slice(text, at, slice))
      this.buffer.add(bytesOf(samples))
      for (const event of this.vad?.detector.push(samples) ?? []) {
        if (event.type === 'speech_started') this.started(event.at, vad!)
        else this.stopped(event.at, vad!)
      }
      await this.pacer.pace()
    }
  }

  /** input_audio_buffer.commit: the whole buffer, even while speech is detected (a new turn starts after it). */
  commit() {
    this.sync()
    const wav = this.buffer.take()
    this.restartVad()
    this.hooks.commit(wav, newId('item_'))
  }

  clear() {
    this.buffer.clear()
    this.restartVad()
    this.hooks.emit({ type: 'input_audio_buffer.cleared' })
  }

  private started(at: number, vad: ServerVad) {
    const itemId = newId('item_')
    const from = Math.max(this.buffer.start, at - samplesOfMs(vad.prefix_padding_ms))
    this.speech = { itemId, from }
    this.hooks.emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: msOf(from), item_id: itemId })
    this.hooks.speechStarted(vad)
  }

  private stopped(at: number, vad: ServerVad) {
    const speech = this.speech!
    this.speech = undefined
    this.hooks.emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: msOf(at), item_id: speech.itemId })
    this.hooks.commit(this.buffer.takeSpan(speech.from, at), speech.itemId)
    this.hooks.turnEnded(vad)
  }

  /** The decoder and detector for the session's settings now (a session.update may change them). */
  private sync() {
    const settings = this.hooks.settings()
    if (this.decoder?.format !== settings.input_audio_format) this.decoder = new InputDecoder(settings.input_audio_format)
    const key = JSON.stringify(settings.turn_detection)
    if (this.vad?.key !== key) {
      this.speech = undefined
      this.vad = settings.turn_detection ? { detector: new EnergyVad(settings.turn_detection, this.buffer.end), key } : undefined
    }
    return settings
  }

  private restartVad() {
    this.speech = undefined
    if (this.vad) this.vad = { ...this.vad, detector: new EnergyVad(JSON.parse(this.vad.key) as ServerVad, this.buffer.end) }
  }
}
