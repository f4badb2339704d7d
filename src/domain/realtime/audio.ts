import { invalidRequest } from '../../errors.js'

/** Realtime audio is pcm16: 16-bit little-endian mono at 24 kHz, as OpenAI's speech `pcm`. */
export const PCM16_RATE = 24_000
const BYTES_PER_MS = (PCM16_RATE * 2) / 1000
/** OpenAI's shortest committed buffer. */
const MIN_COMMIT_MS = 100
/** OpenAI's limit for one append: 15 MiB of base64. */
const MAX_APPEND_CHARS = 15 * 1024 * 1024
/** The buffer's bound: the Audio API's upload limit (25 MiB, about 9 minutes of pcm16). */
const MAX_BUFFER_BYTES = 25 * 1024 * 1024

/** The engines a session's audio runs on: the audio API's own services (docs/audio.md). */
export type AudioEngines = {
  /** The text of a WAV file (the transcription service, `model` as the session names it). */
  transcribe: (wav: Buffer, model: string, signal: AbortSignal) => Promise<string>
  /** 24 kHz pcm16 of the text (the speech service), as it is made. */
  speak: (text: string, voice: string, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>
}

/**
 * The base64 audio of an append event, checked (OpenAI's 15 MiB bound), not yet decoded: the
 * caller decodes it in slices (base64Slice). Its decoded size, for the buffer's bound.
 */
export function appendedAudio(audio: unknown): { text: string; bytes: number } {
  if (typeof audio !== 'string') throw invalidRequest("Missing required parameter: 'audio'.", 'audio', 'missing_required_parameter')
  if (audio.length > MAX_APPEND_CHARS) throw invalidRequest('Audio content exceeds the maximum of 15 MiB per input_audio_buffer.append event.', 'audio', 'invalid_value')
  const padding = audio.endsWith('==') ? 2 : audio.endsWith('=') ? 1 : 0
  return { text: audio, bytes: Math.max(0, Math.floor((audio.length * 3) / 4) - padding) }
}

/** `bytes` decoded bytes' worth of base64 from `at` (a multiple of 4): a slice that decodes alone. */
export function base64Slice(text: string, at: number, bytes: number): Buffer {
  return Buffer.from(text.slice(at, at + Math.ceil(bytes / 3) * 4), 'base64')
}

/**
 * The input audio buffer of one session: the 24 kHz pcm16 samples appended since the last commit.
 * Positions are samples since the session's first append (what speech_started and speech_stopped
 * count in), so voice activity detection can commit a span of it.
 */
export class InputAudioBuffer {
  private chunks: Buffer[] = []
  private bytes = 0
  /** The position of the buffer's first sample. */
  private first = 0

  get start(): number {
    return this.first
  }

  get end(): number {
    return this.first + this.bytes / 2
  }

  /**
   * Makes room for `bytes` more: over 25 MiB is OpenAI-style `input_audio_buffer_full`, unless
   * `evict` (voice activity detection, waiting for speech), which drops the oldest audio instead.
   */
  reserve(bytes: number, evict: boolean) {
    if (this.bytes + bytes <= MAX_BUFFER_BYTES) return
    if (!evict || bytes > MAX_BUFFER_BYTES)
      throw invalidRequest('The input audio buffer is full (25 MiB): commit or clear it before appending more.', 'audio', 'input_audio_buffer_full')
    this.drop(this.first + Math.ceil((this.bytes + bytes - MAX_BUFFER_BYTES) / 2))
  }

  /** Whole samples (2 bytes each), as InputDecoder makes them. */
  add(pcm: Buffer) {
    this.chunks.push(pcm)
    this.bytes += pcm.length
  }

  clear() {
    this.drop(this.end)
  }

  /** The buffer as a WAV file, emptied; OpenAI's error when it holds under 100 ms. */
  take(): Buffer {
    const ms = this.bytes / BYTES_PER_MS
    if (ms < MIN_COMMIT_MS) {
      throw invalidRequest(
        `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${ms.toFixed(2)}ms of audio.`,
        null,
        'input_audio_buffer_commit_empty',
      )
    }
    return this.takeSpan(this.first, this.end)
  }

  /** The samples from `from` to `to` as a WAV file; everything before `to` leaves the buffer. */
  takeSpan(from: number, to: number): Buffer {
    const pcm = Buffer.concat(this.chunks)
    const span = pcm.subarray(Math.max(0, from - this.first) * 2, Math.max(0, to - this.first) * 2)
    this.chunks = [pcm]
    this.drop(to)
    return wav(Buffer.from(span))
  }

  /** Forgets the samples before position `to`. */
  private drop(to: number) {
    let bytes = Math.min(this.bytes, Math.max(0, (to - this.first) * 2))
    this.first += bytes / 2
    this.bytes -= bytes
    while (bytes > 0) {
      const chunk = this.chunks[0]
      if (chunk.length <= bytes) {
        this.chunks.shift()
        bytes -= chunk.length
      } else {
        this.chunks[0] = chunk.subarray(bytes)
        bytes = 0
      }
    }
  }
}

/** pcm16 mono 24 kHz samples with a RIFF/WAVE header, for the transcription engines. */
export function wav(pcm: Buffer): Buffer {
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + pcm.length, 4)
  header.write('WAVE', 8)
  header.write('fmt ', 12)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20)
  header.writeUInt16LE(1, 22)
  header.writeUInt32LE(PCM16_RATE, 24)
  header.writeUInt32LE(PCM16_RATE * 2, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36)
  header.writeUInt32LE(pcm.length, 40)
  return Buffer.concat([header, pcm])
}
