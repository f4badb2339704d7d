import type { UpstreamConfig } from '../../config/schema.js'
import type {
  EmbedCall,
  EmbedResult,
  GenerateCall,
  ModelCard,
  PassthroughAnswer,
  PassthroughCall,
  PassthroughStream,
  Provider,
  ResponsesCall,
  StreamPart,
} from '../provider.js'
import type { ModerationAnswer, ModerationCall } from '../moderation-backend.js'
import type { SpeechAudio, SpeechCall } from '../speech-backend.js'
import { knownSmallJson } from '../../pacing.js'
import { countTokens } from '../tokenizer.js'
import { type ModelNames, upstreamStreamError } from './errors.js'
import { UpstreamFineTuning } from './fine-tuning.js'
import {
  ChatChunkReader,
  chatCompletionParts,
  CompletionChunkReader,
  completionParts,
} from './map-chunk.js'
import { chatAnswer, ChunkRewriter, passthroughStream } from './passthrough.js'
import { plainAnswer } from './plain-answer.js'
import { moderateUpstream } from './moderations.js'
import { parseSse } from './sse-parse.js'
import { upstreamSpeech } from './speech.js'
import { upstreamImages } from './images.js'
import type { ImageCall, ImageResult } from '../image-backend.js'
import { UpstreamTransport } from './transport.js'
import { relayTranscription } from './transcriptions.js'
import type { RelayTranscriptionCall } from '../transcription-backend.js'
import type { WireChatChunk, WireCompletionChunk, WireEmbeddings } from './wire.js'

/** Upstream answers up to this size are serialised again in one step (pacing.ts knownSmallJson). */
const SMALL_ANSWER_BYTES = 64 * 1024

/**
 * Parameters Plinth serves itself and must not forward: stored completions live in Plinth (an
 * upstream OpenAI would keep a second copy), and `echo` is added by the completions domain
 * unless the call asks the upstream to echo (`call.echo`: with `logprobs`).
 */
const HANDLED_HERE = new Set(['store', 'metadata', 'echo', 'stream', 'stream_options'])

/**
 * Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp server) as a Provider. The
 * client's validated body is passed through whole, so the upstream honours every parameter.
 */
export class OpenAICompatibleProvider implements Provider {
  readonly id: string
  readonly echoesPrompt = true
  readonly remoteFineTuning?: UpstreamFineTuning
  private readonly transport: UpstreamTransport

  constructor(
    readonly upstream: UpstreamConfig,
    apiKey: string | undefined,
  ) {
    this.id = `openai-compatible:${upstream.id}`
    this.transport = new UpstreamTransport(upstream, apiKey)
    if (upstream.fineTuning) this.remoteFineTuning = new UpstreamFineTuning(upstream, apiKey)
    // a capability is the presence of its method: only an upstream that serves /responses has it
    if (upstream.responses) {
      this.responses = (call) => this.postResponses(call)
      this.responsesStream = (call) => this.streamResponses(call)
    }
  }

  readonly responses?: (call: ResponsesCall) => Promise<Record<string, unknown>>
  readonly responsesStream?: (call: ResponsesCall) => AsyncIterable<Record<string, unknown>>

  private async postResponses(call: ResponsesCall): Promise<Record<string, unknown>> {
    const exchange = await this.transport.post('/responses', JSON.stringify(call.body), call.signal, false)
    try {
      return (await exchange.body.json()) as Record<string, unknown>
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  private async *streamResponses(call: ResponsesCall): AsyncGenerator<Record<string, unknown>> {
    const exchange = await this.transport.post('/responses', JSON.stringify({ ...call.body, stream: true }), call.signal, true)
    try {
      for await (const message of parseSse(exchange.body)) {
        if (message.data === '[DONE]' || message.data === '') continue
        const event = JSON.parse(message.data) as Record<string, unknown> | null
        if (event) yield event
      }
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  async listModels(): Promise<ModelCard[]> {
    // the registry builds the cards from config; nothing is discovered upstream
    return []
  }

  async *stream(call: GenerateCall): AsyncGenerator<StreamPart> {
    const legacy = call.prompt !== undefined
    const body = requestBody(call, { stream: true, stream_options: { include_usage: true } })
    const exchange = await this.transport.post(
      legacy ? '/completions' : '/chat/completions',
      body,
      call.signal,
      true,
      undefined,
      namesOf(call),
    )
    const reader = legacy ? new CompletionChunkReader() : new ChatChunkReader()
    try {
      for await (const message of parseSse(exchange.body)) {
        // keep reading after [DONE] so the body ends cleanly and the connection returns to the pool
        if (message.data === '[DONE]' || message.data === '') continue
        const chunk = JSON.parse(message.data) as WireChatChunk | null
        if (!chunk) continue
        if (chunk.error !== undefined && chunk.error !== null)
          throw upstreamStreamError(this.upstream.id, chunk.error)
        if (message.event === 'error') throw upstreamStreamError(this.upstream.id, chunk)
        const parts = reader.read(chunk)
        for (let i = 0; i < parts.length; i++) yield parts[i]
      }
      if (reader.usage) yield { type: 'usage', usage: reader.usage }
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  passthrough(call: PassthroughCall): PassthroughStream {
    const legacy = call.prompt !== undefined
    const identity = { id: call.id, model: call.publicModel, object: legacy ? 'text_completion' : 'chat.completion.chunk' } as const
    const open = () =>
      this.transport.post(
        legacy ? '/completions' : '/chat/completions',
        requestBody(call, { stream: true, stream_options: { include_usage: true } }),
        call.signal,
        true,
        undefined,
        namesOf(call),
      )
    return passthroughStream(this.upstream.id, open, new ChunkRewriter(this.upstream.id, identity), legacy)
  }

  async passthroughComplete(call: PassthroughCall): Promise<PassthroughAnswer> {
    const exchange = await this.transport.post('/chat/completions', requestBody(call, { stream: false }), call.signal, false, undefined, namesOf(call))
    try {
      const text = await exchange.body.text()
      const identity = { id: call.id, model: call.publicModel }
      // a compact answer in OpenAI's own form is renamed as text, unparsed (plain-answer.ts)
      const plain = exchange.bodyBytes <= SMALL_ANSWER_BYTES ? plainAnswer(text, identity) : undefined
      if (plain) return plain
      const answer = chatAnswer(JSON.parse(text), identity)
      // made from a text this small, the answer is small: its serialisation needs no walk first
      if (exchange.bodyBytes <= SMALL_ANSWER_BYTES) knownSmallJson(answer.body)
      return answer
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  async complete(call: GenerateCall): Promise<StreamPart[]> {
    const legacy = call.prompt !== undefined
    const body = requestBody(call, { stream: false })
    const exchange = await this.transport.post(
      legacy ? '/completions' : '/chat/completions',
      body,
      call.signal,
      false,
      undefined,
      namesOf(call),
    )
    try {
      const answer = await exchange.body.json()
      return legacy
        ? completionParts(answer as WireCompletionChunk)
        : chatCompletionParts(answer as WireChatChunk)
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  async embed(call: EmbedCall): Promise<EmbedResult> {
    const input = call.inputs.length === 1 ? call.inputs[0] : call.inputs
    const body = JSON.stringify({
      model: call.model,
      input,
      dimensions: call.dimensions,
      // floats always: Plinth encodes base64 itself, as some servers answer base64 their own way
      encoding_format: 'float',
      user: call.user,
    })
    const names = call.publicModel === undefined ? undefined : { upstream: call.model, public: call.publicModel }
    const exchange = await this.transport.post('/embeddings', body, call.signal, false, undefined, names)
    try {
      const answer = (await exchange.body.json()) as WireEmbeddings
      const data = answer.data ?? []
      const embeddings: number[][] = new Array(data.length)
      data.forEach((item, position) => {
        embeddings[item.index ?? position] =
          typeof item.embedding === 'string' ? fromBase64(item.embedding) : item.embedding
      })
      const inputTokens = answer.usage?.prompt_tokens ?? countInputTokens(call.inputs)
      return { embeddings, usage: { inputTokens } }
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }

  moderate(call: ModerationCall): Promise<ModerationAnswer> {
    return moderateUpstream(this.transport, this.upstream.id, call)
  }

  speech(call: SpeechCall): Promise<SpeechAudio> {
    return upstreamSpeech(this.transport, call)
  }

  relayTranscription(call: RelayTranscriptionCall) {
    return relayTranscription(this.transport, call)
  }

  images(call: ImageCall): Promise<ImageResult> {
    return upstreamImages(this.transport, call)
  }

  async close() {
    await this.transport.close()
  }
}

/** The model's names for a generation: the client's body names the public one. */
function namesOf(call: GenerateCall): ModelNames | undefined {
  return typeof call.raw.model === 'string' ? { upstream: call.model, public: call.raw.model } : undefined
}

function requestBody(call: GenerateCall, overrides: Record<string, unknown>): string {
  // copied key by key rather than spread-and-delete, which leaves V8 a slower dictionary object
  const body: Record<string, unknown> = {}
  for (const key in call.raw) if (!HANDLED_HERE.has(key)) body[key] = call.raw[key]
  body.model = call.model
  if (call.prompt !== undefined) body.prompt = call.prompt
  if (call.echo) body.echo = true
  Object.assign(body, overrides)
  // JSON.stringify leaves out undefined values
  return JSON.stringify(body)
}

/** Some servers answer base64 whatever was asked; the SDK's convention is little-endian float32. */
function fromBase64(encoded: string): number[] {
  // copied: a Buffer from the pool may start at an offset Float32Array cannot view
  const bytes = new Uint8Array(Buffer.from(encoded, 'base64'))
  return Array.from(new Float32Array(bytes.buffer, 0, bytes.byteLength >> 2))
}

function countInputTokens(inputs: EmbedCall['inputs']): number {
  return inputs.reduce<number>(
    (sum, input) => sum + (typeof input === 'string' ? countTokens(input) : input.length),
    0,
  )
}
