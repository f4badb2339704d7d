import { z } from 'zod'

/** AudioResponseFormat, for transcriptions and translations alike. */
export const AUDIO_RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const
export type AudioResponseFormat = (typeof AUDIO_RESPONSE_FORMATS)[number]

/** The text fields of the multipart form a client may send (the file goes apart). */
export const TRANSCRIPTION_FIELDS = [
  'model',
  'language',
  'prompt',
  'response_format',
  'temperature',
  'include[]',
  'timestamp_granularities[]',
  'stream',
  // the SDK's newer parameter (server VAD chunking); accepted, the engines cut at pauses anyway.
  // `"auto"` comes as itself, the SDK's VadConfig object as `chunking_strategy[type]` and so on
  'chunking_strategy',
  'chunking_strategy[type]',
  'chunking_strategy[prefix_padding_ms]',
  'chunking_strategy[silence_duration_ms]',
  'chunking_strategy[threshold]',
  // speaker hints of gpt-4o-transcribe-diarize (SDK 6): for an upstream that diarizes
  'known_speaker_names[]',
  'known_speaker_references[]',
] as const

/**
 * The form with `chunking_strategy[key]` fields gathered into a `chunking_strategy` object (how
 * the SDKs send the VadConfig object in a multipart form), for validation.
 */
export function gatherChunkingStrategy(fields: Record<string, unknown>): Record<string, unknown> {
  const gathered: Record<string, unknown> = {}
  const vad: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(fields)) {
    const key = /^chunking_strategy\[(\w+)\]$/.exec(name)?.[1]
    if (key) vad[key] = value
    else gathered[name] = value
  }
  if (Object.keys(vad).length > 0) gathered.chunking_strategy = vad
  return gathered
}

export const TRANSLATION_FIELDS = ['model', 'prompt', 'response_format', 'temperature'] as const

/** A form's `true`/`false` as the SDKs send a boolean. */
const FormBoolean = z.enum(['true', 'false']).transform((value) => value === 'true')
/** A form number: its text must be a number (an empty or wordy value is the usual C-type 400). */
const FormNumber = z
  .string()
  .regex(/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i, 'Expected a number')
  .transform(Number)

/** TranscriptionCreateParams.VadConfig, its numbers as form text. */
const VadConfig = z.strictObject({
  type: z.literal('server_vad'),
  prefix_padding_ms: FormNumber.pipe(z.number().int().min(0)).optional(),
  silence_duration_ms: FormNumber.pipe(z.number().int().min(0)).optional(),
  threshold: FormNumber.pipe(z.number().min(0).max(1)).optional(),
})

/**
 * CreateTranscriptionRequest's text fields, once the lists (`include[]`,
 * `timestamp_granularities[]`) are gathered under their names without brackets.
 */
export const TranscriptionFields = z.strictObject({
  model: z.string().min(1),
  language: z.string().optional(),
  prompt: z.string().optional(),
  // diarized_json (SDK 6, gpt-4o-transcribe-diarize): transcriptions only, as in the SDK
  response_format: z.enum([...AUDIO_RESPONSE_FORMATS, 'diarized_json']).default('json'),
  temperature: FormNumber.pipe(z.number().min(0).max(1)).optional(),
  include: z.array(z.enum(['logprobs'])).default([]),
  // up to 4 speakers (the SDK's doc), each name with its sample as a data URL
  known_speaker_names: z.array(z.string()).max(4).optional(),
  known_speaker_references: z.array(z.string()).max(4).optional(),
  timestamp_granularities: z.array(z.enum(['word', 'segment'])).optional(),
  stream: FormBoolean.optional(),
  chunking_strategy: z.union([z.string(), VadConfig]).optional(),
})
export type TranscriptionFields = z.output<typeof TranscriptionFields>

/** CreateTranslationRequest's text fields. */
export const TranslationFields = z.strictObject({
  model: z.string().min(1),
  prompt: z.string().optional(),
  response_format: z.enum(AUDIO_RESPONSE_FORMATS).default('json'),
  temperature: FormNumber.pipe(z.number().min(0).max(1)).optional(),
})

/** What the domain serves: a transcription's fields, or a translation's with the rest unset. */
export type AudioTextParams = {
  model: string
  language?: string
  prompt?: string
  response_format: AudioResponseFormat | 'diarized_json'
  temperature?: number
  include: 'logprobs'[]
  timestamp_granularities?: ('word' | 'segment')[]
  stream?: boolean
  known_speaker_names?: string[]
  known_speaker_references?: string[]
}

/** The extensions OpenAI accepts, in the order its "Invalid file format" message lists them. */
export const AUDIO_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'] as const

/** OpenAI's upload limit for audio (errors.md F4: 25 MiB). */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024
