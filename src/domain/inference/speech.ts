import { invalidRequest } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { SpeechFormat } from '../../providers/speech-backend.js'
import { countTokens } from '../../providers/tokenizer.js'
import type { SpeechCreateParams } from '../../schemas/speech.js'
import type { Reservation } from '../limits/service.js'
import type { UsageRecorder } from './usage.js'

type Options = {
  signal: AbortSignal
  /** The request's rate limit hold: speech is charged as a request, with no tokens. */
  limit?: Pick<Reservation, 'settle'>
}

/** What the route sends: the body's content type and its bytes, as they are produced. */
export type SpeechAnswer = { contentType: string; chunks: AsyncIterable<Uint8Array> }

const EVENT_STREAM = 'text/event-stream'

/** OpenAI's speech events are only made by its gpt-4o speech models, not by tts-1 and tts-1-hd. */
const NO_EVENTS = /^tts-1(-hd)?(-\d+)?$/

/**
 * POST /v1/audio/speech: the model's audio, streamed as the backend makes it. The first chunk is
 * awaited before answering, so a failure before any audio is a plain HTTP error; usage (the
 * input's characters, as OpenAI bills speech) is recorded once the audio has started, when the
 * stream ends or is cut.
 */
export class SpeechService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
  ) {}

  async create(principal: ProjectPrincipal, params: SpeechCreateParams, options: Options): Promise<SpeechAnswer> {
    const { card, provider, upstreamModel } = this.registry.resolve(params.model, principal.models)
    if (!card.capabilities.speech || !provider.speech) {
      throw invalidRequest(`The model \`${params.model}\` does not support speech.`, 'model', 'invalid_value')
    }
    const events = params.stream_format === 'sse'
    if (events && NO_EVENTS.test(params.model)) {
      throw invalidRequest(
        `Unsupported value: 'stream_format' does not support 'sse' with this model. Supported values are: 'audio'.`,
        'stream_format',
        'unsupported_value',
      )
    }
    const format: SpeechFormat = params.response_format ?? 'mp3'
    const audio = await provider.speech({
      model: upstreamModel,
      publicModel: params.model,
      input: params.input,
      voice: params.voice,
      instructions: params.instructions,
      speed: params.speed ?? 1,
      format,
      streamFormat: params.stream_format,
      raw: params,
      signal: options.signal,
    })
    const iterator = audio.chunks[Symbol.asyncIterator]()
    let first: IteratorResult<Uint8Array>
    try {
      first = await iterator.next()
    } catch (error) {
      await iterator.return?.()
      throw error
    }
    options.limit?.settle(0)
    const record = () =>
      void this.usage.record(principal, {
        operation: 'audio_speeches',
        model: params.model,
        inputTokens: 0,
        outputTokens: 0,
        characters: params.input.length,
      })
    const chunks = rest(first, iterator, record)
    // an upstream asked for events sends them itself; local audio is put into events here
    if (!events || audio.contentType.startsWith(EVENT_STREAM)) return { contentType: audio.contentType, chunks }
    return { contentType: `${EVENT_STREAM}; charset=utf-8`, chunks: speechEvents(chunks, params.input) }
  }
}

/** The primed first chunk, then the rest; `done` runs once, however the stream ends. */
async function* rest(
  first: IteratorResult<Uint8Array>,
  iterator: AsyncIterator<Uint8Array>,
  done: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    if (first.done) return
    yield first.value
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      yield next.value
    }
  } finally {
    done()
    await iterator.return?.()
  }
}

const encoder = new TextEncoder()

/**
 * Audio as OpenAI's speech events: `speech.audio.delta` with each chunk in base64, then
 * `speech.audio.done` with the usage. The offline engines make no audio tokens: the input's
 * o200k tokens are counted, and no output tokens.
 */
async function* speechEvents(chunks: AsyncIterable<Uint8Array>, input: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    const event = { type: 'speech.audio.delta', audio: Buffer.from(chunk).toString('base64') }
    yield encoder.encode(`data: ${JSON.stringify(event)}\n\n`)
  }
  const tokens = countTokens(input)
  const done = { type: 'speech.audio.done', usage: { input_tokens: tokens, output_tokens: 0, total_tokens: tokens } }
  yield encoder.encode(`data: ${JSON.stringify(done)}\n\n`)
}
