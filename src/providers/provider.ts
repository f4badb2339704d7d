import type { ImageBackend } from './image-backend.js'
import type { ModerationBackend } from './moderation-backend.js'
import type { RemoteTrainingBackend } from './remote-fine-tuning.js'
import type { SpeechBackend } from './speech-backend.js'
import type { TrainingBackend } from './training-backend.js'
import type { TranscriptionBackend } from './transcription-backend.js'
import type {
  ChatCompletionCreateParams,
  ChatMessageParam,
  ResponseFormat,
  Tool,
  ToolChoice,
} from '../schemas/chat.js'

/** What GET /v1/models shows of a model, and what the domain checks a request against. */
export type ModelCard = {
  id: string
  ownedBy: string
  created: number
  capabilities: {
    chat: boolean
    completions: boolean
    embeddings: boolean
    /** POST /v1/audio/speech (text to speech). */
    speech?: boolean
    /** POST /v1/audio/transcriptions. */
    transcription?: boolean
    /** POST /v1/audio/translations (speech in any language to English text). */
    translation?: boolean
    /** POST /v1/images/generations, edits, variations. */
    images?: boolean
    /** POST /v1/moderations. */
    moderation?: boolean
  }
  /**
   * Request parameters (wire names) this model cannot honour; a request that sets one gets a
   * 400 `unsupported_parameter` naming it instead of being silently ignored.
   */
  unsupportedParameters?: readonly string[]
  /** Legacy /v1/completions parameters this model cannot honour (400 `unsupported_parameter`). */
  unsupportedCompletionParameters?: readonly string[]
  /**
   * Tokens (o200k) one request may hold, prompt and completion together; for an embedding model,
   * each input. Over it, OpenAI's 400 `context_length_exceeded`. Unset: the backend decides.
   */
  contextLength?: number
  /** Most completion tokens per choice: a larger `max_tokens` is a 400, an unset one defaults to it. */
  maxOutputTokens?: number
  /** An embedding model's tokens summed over a request's inputs (OpenAI: 300,000). */
  maxRequestTokens?: number
}

export type Sampling = {
  temperature?: number
  topP?: number
  maxTokens?: number
  stop?: string[]
  seed?: number
  n: number
  presencePenalty?: number
  frequencyPenalty?: number
  logitBias?: Record<string, number>
  logprobs?: boolean
  topLogprobs?: number
}

export type GenerateCall = {
  /** The backend's model id, already resolved by the registry. */
  model: string
  sampling: Sampling
  /** chat: the conversation; completion: a single raw prompt (the domain fans out prompt arrays). */
  messages?: ChatMessageParam[]
  prompt?: string
  tools?: Tool[]
  toolChoice?: ToolChoice
  parallelToolCalls?: boolean
  responseFormat?: ResponseFormat
  /**
   * Legacy completions: the backend echoes the prompt itself, its text and its tokens' log
   * probabilities (set only for a provider with `echoesPrompt`, and only with `logprobs`).
   */
  echo?: boolean
  /** The validated wire body, for pass-through backends that honour every parameter themselves. */
  raw: Partial<ChatCompletionCreateParams> & Record<string, unknown>
  signal: AbortSignal
}

export type PassthroughCall = GenerateCall & {
  /** The id every chunk carries (Plinth's, as non-streamed answers have). */
  id: string
  /** The model name the client asked for, which the chunks carry instead of the upstream's. */
  publicModel: string
}

/** Each item is the SSE frames (`data: {...}\n\n`, Plinth's chunks) that one upstream read completed. */
export interface PassthroughStream extends AsyncIterable<string> {
  /**
   * The usage once the stream has ended or been cut short: the upstream's report, or else
   * `count` applied to the parts of the chunks forwarded so far.
   */
  usage(count: (parts: StreamPart[]) => Usage): Usage
}

export type PassthroughAnswer = {
  /** The chat.completion object, but for `usage`, which the domain sets (the upstream's or counted). */
  body: Record<string, unknown>
  /** The upstream's usage, when it reported one. */
  usage?: Usage
  /** The answer as parts, for counting usage when the upstream did not report it. */
  parts(): StreamPart[]
  /**
   * The answer's JSON text with this usage object in it, when the provider kept the upstream's
   * text instead of parsing it (an API route sends it as it is; `body` then parses on demand).
   */
  serialize?(usage: object): string
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call'

export type TokenLogprob = {
  token: string
  logprob: number
  /** An echoed prompt's first token, which has no probability: the legacy answer's null. */
  unscored?: true
  bytes: number[] | null
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[]
}

export type Usage = {
  inputTokens: number
  outputTokens: number
  cachedTokens?: number
  reasoningTokens?: number
}

/** A Responses request for a backend that serves the Responses API itself. */
export type ResponsesCall = { body: Record<string, unknown>; signal: AbortSignal }

/** What a backend yields while generating; the domain maps these to wire chunks. */
export type StreamPart =
  | { type: 'text-delta'; choice: number; text: string; logprobs?: TokenLogprob[] }
  | { type: 'refusal-delta'; choice: number; text: string }
  | {
      type: 'tool-call-delta'
      choice: number
      index: number
      id?: string
      name?: string
      argumentsDelta: string
    }
  | { type: 'choice-end'; choice: number; finishReason: FinishReason }
  | { type: 'usage'; usage: Usage }

export type EmbedCall = {
  model: string
  /** Each input as text, or as token ids when the client sent token arrays. */
  inputs: (string | number[])[]
  dimensions?: number
  /** The client's end-user id (`user`), for a backend that monitors abuse (an upstream OpenAI). */
  user?: string
  signal: AbortSignal
  /** Each input's o200k count, when the domain counted them (models with limits). */
  tokenCounts?: number[]
  /** The model id the client asked for, which errors name instead of the backend's. */
  publicModel?: string
}

export type EmbedResult = { embeddings: number[][]; usage: { inputTokens: number } }

/**
 * One model backend. A capability is the presence of its method; the media endpoints' methods
 * (speech, transcription, images, moderation, training) are declared in their own files.
 */
export interface Provider
  extends SpeechBackend,
    TranscriptionBackend,
    ImageBackend,
    ModerationBackend,
    TrainingBackend,
    RemoteTrainingBackend {
  readonly id: string
  /**
   * Legacy completions: the backend can echo a prompt with its log probabilities (an upstream,
   * which decides whether it serves `echo` with `logprobs`). Otherwise Plinth echoes the text.
   */
  readonly echoesPrompt?: boolean
  listModels(): Promise<ModelCard[]>
  /** The one required generation method. */
  stream(call: GenerateCall): AsyncIterable<StreamPart>
  /**
   * Optional fast path for non-streamed requests: one whole answer from the backend, as the parts
   * `stream` would have yielded. Pass-through backends use it to avoid streaming upstream.
   */
  complete?(call: GenerateCall): Promise<StreamPart[]>
  /**
   * Optional fast path for streamed requests to backends that speak OpenAI's wire format: their
   * chunks forwarded as SSE text, with Plinth's id and public model written in, finish reasons
   * normalised and usage taken out (the domain sends its own usage chunk). Parsing every chunk
   * into parts and serialising a new one cost a proxied stream four times the baseline's CPU.
   */
  passthrough?(call: PassthroughCall): PassthroughStream
  /**
   * The non-streamed counterpart of `passthrough` (chat): the upstream's answer with Plinth's id
   * and model, OpenAI's required fields filled in and usage in OpenAI's full shape, instead of
   * taking it apart into parts and assembling a new one.
   */
  passthroughComplete?(call: PassthroughCall): Promise<PassthroughAnswer>
  embed?(call: EmbedCall): Promise<EmbedResult>
  /**
   * Optional: OpenAI's Responses API served by the backend itself (an upstream configured with
   * `responses: true`). The body is the request as the backend takes it; the answer is the
   * Response object, or (`stream`) its events, parsed.
   */
  responses?(call: ResponsesCall): Promise<Record<string, unknown>>
  responsesStream?(call: ResponsesCall): AsyncIterable<Record<string, unknown>>
  /** Unload models, close sockets. */
  close?(): Promise<void>
}
