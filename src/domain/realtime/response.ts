import { ApiError } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import { newId } from '../../storage/ids.js'
import { OutputEncoder } from './g711.js'
import type { RealtimeItem } from './items.js'
import type { ResponseParams, ServerEvent, SessionConfig } from './session.js'

type Usage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } }
type ToolCallDelta = { index: number; id?: string; function?: { name?: string; arguments?: string } }
type Chunk = { choices?: { delta?: { content?: string | null; tool_calls?: ToolCallDelta[] }; finish_reason?: string | null }[]; usage?: Usage | null }

export type RunOptions = {
  conversationId: string | null
  modalities: string[]
  params: ResponseParams
  config: SessionConfig
  emit: (event: ServerEvent) => void
  /** Adds a model's item to the conversation, returning the previous item's id; none out of band. */
  addItem?: (item: RealtimeItem) => string | null
  /** Speech for the `audio` modality: the answer's text spoken once generated (24 kHz pcm16). */
  speak?: (text: string, voice: string, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>
  /** How much audio (ms) a spoken item has had sent so far. */
  onAudio?: (itemId: string, ms: number) => void
}

/** Speech is encoded and sent a second (24 kHz pcm16) at a time, pacing between. */
const SPEECH_SLICE = 48_000

/**
 * One response of a Realtime session: chat chunks (the domain chat service, which records usage)
 * → response.created, output items and their parts, text and function-call argument deltas,
 * response.done with usage. A cancel aborts the model call and ends the response `cancelled`.
 */
export class ResponseRun {
  readonly id = newId('resp_')
  private readonly controller = new AbortController()
  readonly signal = this.controller.signal
  private readonly output: RealtimeItem[] = []
  private text: { item: RealtimeItem; index: number; text: string } | undefined
  private readonly calls = new Map<number, { item: RealtimeItem; index: number }>()
  private usage: Usage | undefined
  private finish: string | null | undefined
  private cancelled: false | 'client_cancelled' | 'turn_detected' = false
  /** The `audio` modality: the message's part is audio, its text the transcript. */
  private readonly audio: boolean

  constructor(private readonly options: RunOptions) {
    this.audio = options.modalities.includes('audio') && options.speak !== undefined
    this.emit({ type: 'response.created', response: this.object('in_progress', null) })
  }

  /** Stops the response: the client's response.cancel, or the user speaking (turn_detected). */
  cancel(reason: 'client_cancelled' | 'turn_detected' = 'client_cancelled') {
    if (!this.cancelled) this.cancelled = reason
    this.controller.abort()
  }

  async play(chunks: AsyncIterable<Record<string, unknown>>) {
    for await (const raw of chunks) {
      if (this.cancelled) break
      const chunk = raw as Chunk
      if (chunk.usage) this.usage = chunk.usage
      const choice = chunk.choices?.[0]
      if (!choice) continue
      if (choice.delta?.content) this.textDelta(choice.delta.content)
      for (const call of choice.delta?.tool_calls ?? []) this.callDelta(call)
      if (choice.finish_reason) this.finish = choice.finish_reason
    }
    if (this.audio && this.text && !this.cancelled) await this.speak(this.text)
    this.end(this.cancelled ? 'cancelled' : this.finish === 'length' ? 'incomplete' : 'completed')
  }

  /**
   * The whole answer spoken, sent as response.audio.delta events as the engine makes it, in the
   * output_audio_format (g711 encoded from the engine's 24 kHz pcm16).
   */
  private async speak(text: { item: RealtimeItem; index: number; text: string }) {
    const { params, config } = this.options
    const format = params.output_audio_format ?? config.output_audio_format
    const encoder = new OutputEncoder(format)
    const pacer = new Pacer()
    let bytes = 0
    this.options.onAudio?.(text.item.id, 0)
    const audio = await this.options.speak!(text.text, params.voice ?? config.voice, this.signal)
    for await (const chunk of audio) {
      const pcm = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      for (let at = 0; at < pcm.length; at += SPEECH_SLICE) {
        if (this.cancelled) return
        const encoded = encoder.push(pcm.subarray(at, at + SPEECH_SLICE))
        if (!encoded.length) continue
        bytes += encoded.length
        this.options.onAudio?.(text.item.id, OutputEncoder.ms(format, bytes))
        this.emit({ type: 'response.audio.delta', response_id: this.id, item_id: text.item.id, output_index: text.index, content_index: 0, delta: encoded.toString('base64') })
        await pacer.pace()
      }
    }
  }

  /** The model failed (or refused the request): the response ends `failed`, naming the error. */
  fail(error: unknown) {
    if (this.cancelled) return this.end('cancelled')
    const api = error instanceof ApiError ? error : undefined
    const detail = { type: api?.type ?? 'server_error', code: api?.code ?? null, message: api?.message ?? 'The server had an error while processing your request.' }
    this.end('failed', detail)
  }

  private textDelta(delta: string) {
    if (!this.text) {
      const item: RealtimeItem = { id: newId('item_'), object: 'realtime.item', type: 'message', status: 'in_progress', role: 'assistant', content: [] }
      this.text = { item, index: this.addOutput(item), text: '' }
      const part = this.audio ? { type: 'audio', transcript: '' } : { type: 'text', text: '' }
      this.emit({ type: 'response.content_part.added', response_id: this.id, item_id: item.id, output_index: this.text.index, content_index: 0, part })
    }
    this.text.text += delta
    const type = this.audio ? 'response.audio_transcript.delta' : 'response.text.delta'
    this.emit({ type, response_id: this.id, item_id: this.text.item.id, output_index: this.text.index, content_index: 0, delta })
  }

  private callDelta(delta: ToolCallDelta) {
    let call = this.calls.get(delta.index)
    if (!call) {
      const item: RealtimeItem = { id: newId('item_'), object: 'realtime.item', type: 'function_call', status: 'in_progress', call_id: delta.id ?? newId('call_'), name: delta.function?.name ?? '', arguments: '' }
      call = { item, index: this.addOutput(item) }
      this.calls.set(delta.index, call)
    }
    const args = delta.function?.arguments
    if (!args) return
    call.item.arguments += args
    this.emit({ type: 'response.function_call_arguments.delta', response_id: this.id, item_id: call.item.id, output_index: call.index, call_id: call.item.call_id, delta: args })
  }

  private addOutput(item: RealtimeItem): number {
    const index = this.output.push(item) - 1
    this.emit({ type: 'response.output_item.added', response_id: this.id, output_index: index, item: { ...item } })
    const previous = this.options.addItem?.(item)
    if (previous !== undefined) this.emit({ type: 'conversation.item.created', previous_item_id: previous, item: { ...item } })
    return index
  }

  private end(status: 'completed' | 'incomplete' | 'cancelled' | 'failed', error?: { type: string; code: string | null; message: string }) {
    const itemStatus = status === 'completed' ? 'completed' : 'incomplete'
    for (const [index, item] of this.output.entries()) {
      item.status = itemStatus
      const at = { response_id: this.id, item_id: item.id, output_index: index, content_index: 0 }
      if (item.type === 'message' && this.text && this.audio) {
        const part = { type: 'audio' as const, transcript: this.text.text }
        item.content = [part]
        this.emit({ type: 'response.audio.done', ...at })
        this.emit({ type: 'response.audio_transcript.done', ...at, transcript: part.transcript })
        this.emit({ type: 'response.content_part.done', ...at, part })
      } else if (item.type === 'message' && this.text) {
        const part = { type: 'text' as const, text: this.text.text }
        item.content = [part]
        this.emit({ type: 'response.text.done', ...at, text: part.text })
        this.emit({ type: 'response.content_part.done', ...at, part })
      } else if (item.type === 'function_call') {
        this.emit({ type: 'response.function_call_arguments.done', response_id: this.id, item_id: item.id, output_index: index, call_id: item.call_id, name: item.name, arguments: item.arguments })
      }
      this.emit({ type: 'response.output_item.done', response_id: this.id, output_index: index, item: { ...item } })
    }
    const details =
      status === 'completed' ? null
      : status === 'cancelled' ? { type: 'cancelled', reason: this.cancelled || 'client_cancelled' }
      : status === 'incomplete' ? { type: 'incomplete', reason: 'max_output_tokens' }
      : { type: 'failed', error }
    this.emit({ type: 'response.done', response: this.object(status, details) })
  }

  private object(status: string, details: unknown) {
    const { params, config } = this.options
    const max = params.max_response_output_tokens ?? config.max_response_output_tokens
    // status_details and usage are left out while there are none (the spec's are objects)
    return {
      id: this.id,
      object: 'realtime.response',
      status,
      ...(details ? { status_details: details } : {}),
      output: this.output.map((item) => ({ ...item })),
      ...(status === 'in_progress' ? {} : { usage: this.usageObject() }),
      conversation_id: this.options.conversationId,
      modalities: this.options.modalities,
      voice: params.voice ?? config.voice,
      output_audio_format: params.output_audio_format ?? config.output_audio_format,
      temperature: params.temperature ?? config.temperature,
      max_output_tokens: max,
      metadata: params.metadata ?? null,
    }
  }

  private usageObject() {
    const input = this.usage?.prompt_tokens ?? 0
    const output = this.usage?.completion_tokens ?? 0
    return {
      total_tokens: input + output,
      input_tokens: input,
      output_tokens: output,
      input_token_details: { cached_tokens: this.usage?.prompt_tokens_details?.cached_tokens ?? 0, text_tokens: input, audio_tokens: 0 },
      output_token_details: { text_tokens: output, audio_tokens: 0 },
    }
  }

  private emit(event: ServerEvent) {
    this.options.emit(event)
  }
}
