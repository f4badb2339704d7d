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

/** The input audio buffer of one session: what the client appended since the last commit. */
export class InputAudioBuffer {
  private chunks: Buffer[] = []
  private bytes = 0

  append(audio: unknown) {
    if (typeof audio !== 'string') throw invalidRequest("Missing required parameter: 'audio'.", 'audio', 'missing_required_parameter')
    if (audio.length > MAX_APPEND_CHARS) throw invalidRequest('Audio content exceeds the maximum of 15 MiB per input_audio_buffer.append event.', 'audio', 'invalid_value')
    const chunk = Buffer.from(audio, 'base64')
    if (this.bytes + chunk.length > MAX_BUFFER_BYTES)
      throw invalidRequest('The input audio buffer is full (25 MiB): commit or clear it before appending more.', 'audio', 'input_audio_buffer_full')
    this.chunks.push(chunk)
    this.bytes += chunk.length
  }

  clear() {
    this.chunks = []
    this.bytes = 0
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
    const pcm = Buffer.concat(this.chunks)
    this.clear()
    return wav(pcm.subarray(0, pcm.length - (pcm.length % 2)))
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
