/**
 * The methods a provider implements to serve POST /v1/audio/transcriptions and /translations: speech to text.
 * Optional: a provider without them has no such models.
 */
export interface TranscriptionBackend {
  /**
   * Recognizes the upload with a local engine: each utterance as a segment as soon as it is
   * decoded, then the audio's duration. The domain writes every response format from these.
   */
  transcribe?(call: TranscribeCall): AsyncIterable<TranscriptEvent>
  /**
   * The ISO-639-1 languages a local model recognizes (`transcribe`); unset: any. A request for
   * another language is refused rather than answered with words of the wrong language.
   */
  transcriptionLanguages?(model: string): readonly string[] | undefined
  /**
   * Forwards the upload to a server that speaks OpenAI's audio API (`relay`); its answer (JSON,
   * text, subtitles or SSE) comes back as it is, only streamed through.
   */
  relayTranscription?(call: RelayTranscriptionCall): Promise<RelayedAnswer>
}

/** The uploaded audio, staged in a temporary file for the request's life. */
export type AudioUpload = { path: string; filename: string; contentType: string; bytes: number }

export type TranscriptionTask = 'transcribe' | 'translate'

export type TranscribeCall = {
  /** The backend's model id, already resolved by the registry. */
  model: string
  task: TranscriptionTask
  audio: AudioUpload
  language?: string
  prompt?: string
  temperature?: number
  signal: AbortSignal
}

/** One recognized word: seconds from the start of the audio, and the recognizer's posterior (0-1). */
export type TranscriptWord = { word: string; start: number; end: number; confidence: number }

/** One utterance (the recognizer cuts the audio at pauses). */
export type TranscriptSegment = {
  start: number
  end: number
  text: string
  words: TranscriptWord[]
  /** Share of the utterance's time the recognizer heard no word (silence, noise, fillers). */
  noSpeech: number
}

export type TranscriptEvent =
  | { type: 'segment'; segment: TranscriptSegment }
  | { type: 'end'; duration: number }

export type RelayTranscriptionCall = {
  model: string
  /** The model's id as the client named it, for upstream errors that would name the backend's. */
  publicModel?: string
  task: TranscriptionTask
  audio: AudioUpload
  /** The client's text fields as sent but `model`; the lists (`include[]`...) as arrays under their names without brackets. */
  fields: Record<string, string | string[]>
  signal: AbortSignal
}

/** An upstream's successful answer: its content type and body bytes, to pass on as they come. */
export type RelayedAnswer = { contentType: string; body: AsyncIterable<Uint8Array> }

/** The upload is not audio the decoder can read (corrupt, empty, or another kind of file). */
export class AudioUndecodable extends Error {
  override name = 'AudioUndecodable'
}
