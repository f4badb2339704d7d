/** The audio formats of POST /v1/audio/speech (`response_format`). */
export type SpeechFormat = 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm'

/** The Content-Type OpenAI sends with each format. */
export const SPEECH_CONTENT_TYPES: Readonly<Record<SpeechFormat, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
}

export type SpeechCall = {
  /** The backend's model id, already resolved by the registry. */
  model: string
  /** The model's id as the client named it, for upstream errors that would name the backend's. */
  publicModel?: string
  input: string
  /** A built-in voice name, or a custom voice reference (upstreams only). */
  voice: string | { id: string }
  instructions?: string
  /** 0.25 to 4, 1 when the client sent none. */
  speed: number
  format: SpeechFormat
  /** `sse`: the upstream is asked for speech events; local backends only make audio. */
  streamFormat?: 'sse' | 'audio'
  /** The validated wire body, for pass-through backends that honour every parameter themselves. */
  raw: Record<string, unknown>
  signal: AbortSignal
}

/**
 * The answer as it is produced: `chunks` are the encoded audio (or, with `contentType`
 * text/event-stream, an upstream's speech events as they came), each yielded as soon as the
 * engine has it. Stopping the iteration (or the call's signal) stops the engine.
 */
export type SpeechAudio = {
  contentType: string
  chunks: AsyncIterable<Uint8Array>
}

/**
 * The methods a provider implements to serve POST /v1/audio/speech: text to speech.
 * Optional: a provider without them has no such models.
 */
export interface SpeechBackend {
  /**
   * Starts synthesis, or rejects at once: bad input for this model, a missing engine (503). The
   * domain reads the first chunk before answering, so a failure before any audio is still a
   * plain HTTP error.
   */
  speech?(call: SpeechCall): Promise<SpeechAudio>
}
