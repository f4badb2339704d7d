import { z } from 'zod'
import { ApiError, invalidRequest } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ChatCompletionCreateParams } from '../../schemas/chat.js'
import { RealtimeSessionUpdate, RealtimeTool } from '../../schemas/realtime.js'
import { validate } from '../../schemas/validation.js'
import { newId } from '../../storage/ids.js'
import type { ChatOptions, ChatService } from '../inference/chat.js'
import { chunkObjects } from '../inference/serialized.js'
import type { Reservation } from '../limits/service.js'
import { ClientItem, toChatMessages, toItem, type RealtimeItem } from './items.js'
import { ResponseRun } from './response.js'
import { InputAudioBuffer, type AudioEngines } from './audio.js'

export type ServerEvent = { type: string; event_id?: string; [key: string]: unknown }

export type SessionDeps = {
  chat: Pick<ChatService, 'chunks'>
  /** The project's rate limits for the model (LimitsService.reserve). */
  reserve: (principal: ProjectPrincipal, model: string) => Promise<Reservation>
  /** Throws OpenAI's error when the model is not a chat model the project may use. */
  checkModel: (principal: ProjectPrincipal, model: string) => void
  /** Logs an unexpected failure (it is answered as a server_error event). */
  onError?: (error: unknown) => void
  /** Transcription and speech (audio.ts); without them the session is text only. */
  audio?: AudioEngines
}

/** The session's configuration, as session.created shows it. */
export type SessionConfig = {
  model: string
  modalities: ('text' | 'audio')[]
  instructions: string
  voice: string
  input_audio_format: string
  output_audio_format: string
  input_audio_transcription: unknown
  turn_detection: unknown
  input_audio_noise_reduction: unknown
  tools: RealtimeTool[]
  tool_choice: string
  temperature: number
  max_response_output_tokens: number | 'inf'
  speed: number
  tracing: unknown
}

/**
 * OpenAI's defaults (text and audio), except turn detection: Plinth has no voice activity
 * detection, so the client commits the audio buffer and asks for responses itself.
 */
export function defaultSession(model: string): SessionConfig {
  return {
    model,
    modalities: ['text', 'audio'],
    instructions: '',
    voice: 'alloy',
    input_audio_format: 'pcm16',
    output_audio_format: 'pcm16',
    input_audio_transcription: null,
    turn_detection: null,
    input_audio_noise_reduction: null,
    tools: [],
    tool_choice: 'auto',
    temperature: 0.8,
    max_response_output_tokens: 'inf',
    speed: 1,
    tracing: null,
  }
}

const Base = z.object({ type: z.string(), event_id: z.string().optional() })
const ItemCreate = z.strictObject({ type: z.literal('conversation.item.create'), event_id: z.string().optional(), previous_item_id: z.string().nullish(), item: ClientItem })
const ItemRef = z.strictObject({ type: z.string(), event_id: z.string().optional(), item_id: z.string() })
const SessionUpdate = z.strictObject({ type: z.literal('session.update'), event_id: z.string().optional(), session: RealtimeSessionUpdate })
const ResponseParams = z.strictObject({
  modalities: z.array(z.enum(['text', 'audio'])).optional(),
  instructions: z.string().optional(),
  voice: z.string().optional(),
  output_audio_format: z.enum(['pcm16', 'g711_ulaw', 'g711_alaw']).optional(),
  tools: z.array(RealtimeTool).optional(),
  tool_choice: z.string().optional(),
  temperature: z.number().min(0.6).max(1.2).optional(),
  max_response_output_tokens: z.union([z.int().min(1).max(4096), z.literal('inf')]).optional(),
  conversation: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  input: z.array(ClientItem).optional(),
})
export type ResponseParams = z.output<typeof ResponseParams>
const ResponseCreate = z.strictObject({ type: z.literal('response.create'), event_id: z.string().optional(), response: ResponseParams.optional() })
const ResponseCancel = z.strictObject({ type: z.literal('response.cancel'), event_id: z.string().optional(), response_id: z.string().optional() })

/** Audio events Plinth does not serve even with its audio engines (WebRTC, truncation, VAD). */
const UNSERVED_EVENTS = new Set(['output_audio_buffer.clear', 'conversation.item.truncate', 'transcription_session.update'])
const INPUT_AUDIO_EVENTS = new Set(['input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear'])
const AudioAppend = z.strictObject({ type: z.literal('input_audio_buffer.append'), event_id: z.string().optional(), audio: z.string() })
const BufferEvent = z.strictObject({ type: z.string(), event_id: z.string().optional() })

/** An `error` event in OpenAI's shape, naming the client event it answers. */
export function errorEvent(error: { type: string; code: string | null; message: string; param: string | null }, eventId: string | null): ServerEvent {
  return { type: 'error', event_id: newId('event_'), error: { type: error.type, code: error.code, message: error.message, param: error.param, event_id: eventId } }
}

const parse = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => validate(schema, value)

/**
 * One Realtime connection: its session configuration, its conversation and at most one response
 * at a time, driven by the client's events (`handle`) and answering through `send`. Text only:
 * the audio events get an `error` event that says so.
 */
export class RealtimeSession {
  readonly id = newId('sess_')
  readonly conversationId = newId('conv_')
  /** OpenAI's sessions last 30 minutes; shown, not enforced */
  private readonly expiresAt = Math.floor(Date.now() / 1000) + 1800
  private items: RealtimeItem[] = []
  private active: ResponseRun | undefined
  private closed = false
  private readonly input = new InputAudioBuffer()
  /** Transcriptions of committed audio, in order: a response waits for them. */
  private transcribing: Promise<void> = Promise.resolve()
  private readonly aborted = new AbortController()

  constructor(
    private readonly deps: SessionDeps,
    private readonly principal: ProjectPrincipal,
    private config: SessionConfig,
    private readonly send: (event: ServerEvent) => void,
  ) {}

  start() {
    this.emit({ type: 'session.created', session: this.sessionObject() })
  }

  /** The socket closed: a response in flight stops (its usage so far is recorded by chat). */
  close() {
    this.closed = true
    this.aborted.abort()
    this.active?.cancel()
  }

  /** One client event, as the socket's text frame. */
  handle(text: string) {
    let eventId: string | null = null
    try {
      let raw: unknown
      try {
        raw = JSON.parse(text)
      } catch {
        throw invalidRequest('The server could not parse the event: it is not valid JSON.', null, 'invalid_json')
      }
      const base = Base.safeParse(raw)
      if (!base.success) throw invalidRequest("Missing required parameter: 'type'.", 'type', 'missing_required_parameter')
      eventId = base.data.event_id ?? null
      this.dispatch(base.data.type, raw)
    } catch (error) {
      // never thrown on: the socket's message handler has no one above it but the process
      const api = error instanceof ApiError ? error : undefined
      if (!api) this.deps.onError?.(error)
      const shown = api ?? { type: 'server_error', code: null, message: 'The server had an error while processing your event.', param: null }
      this.send(errorEvent({ type: shown.type, code: shown.code, message: shown.message, param: shown.param }, eventId))
    }
  }

  private dispatch(type: string, raw: unknown) {
    if (type === 'session.update') return this.update(parse(SessionUpdate, raw))
    if (type === 'conversation.item.create') return this.createItem(parse(ItemCreate, raw))
    if (type === 'conversation.item.retrieve') {
      const { item_id } = parse(ItemRef, raw)
      return this.emit({ type: 'conversation.item.retrieved', item: this.find(item_id) })
    }
    if (type === 'conversation.item.delete') {
      const { item_id } = parse(ItemRef, raw)
      const item = this.find(item_id)
      this.items = this.items.filter((other) => other !== item)
      return this.emit({ type: 'conversation.item.deleted', item_id })
    }
    if (type === 'response.create') return this.respond(parse(ResponseCreate, raw).response ?? {})
    if (type === 'response.cancel') return this.cancel(parse(ResponseCancel, raw).response_id)
    if (INPUT_AUDIO_EVENTS.has(type) && this.deps.audio) return this.inputAudio(type, raw)
    if (INPUT_AUDIO_EVENTS.has(type) || UNSERVED_EVENTS.has(type))
      throw invalidRequest(`'${type}' is not supported by Plinth's Realtime API${this.deps.audio ? '' : ', which serves text only here (no audio engines)'}. ${this.deps.audio ? 'Commit the input audio buffer and send response.create.' : 'Send text with conversation.item.create.'}`, 'type', 'audio_not_supported')
    throw invalidRequest(`Invalid value: '${type}'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', 'response.create', and 'response.cancel'.`, 'type', 'invalid_value')
  }

  private inputAudio(type: string, raw: unknown) {
    if (type === 'input_audio_buffer.append') {
      if (this.config.input_audio_format !== 'pcm16') throw audioFormat('session.input_audio_format')
      return this.input.append(parse(AudioAppend, raw).audio)
    }
    parse(BufferEvent, raw)
    if (type === 'input_audio_buffer.clear') {
      this.input.clear()
      return this.emit({ type: 'input_audio_buffer.cleared' })
    }
    this.commit(this.input.take())
  }

  /** The committed audio becomes a user item; its transcript (the model reads text) follows. */
  private commit(wav: Buffer) {
    const previous = this.items.at(-1)?.id ?? null
    const part: { type: 'input_audio'; transcript: string | null } = { type: 'input_audio', transcript: null }
    const item: RealtimeItem = { id: newId('item_'), object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [part] }
    this.items.push(item)
    this.emit({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: item.id })
    this.emit({ type: 'conversation.item.created', previous_item_id: previous, item })
    const asked = this.config.input_audio_transcription as { model?: string } | null
    const audio = this.deps.audio!
    this.transcribing = this.transcribing.then(async () => {
      try {
        part.transcript = await audio.transcribe(wav, asked?.model ?? 'whisper-1', this.aborted.signal)
        // the event only when the session asked for transcription, as OpenAI sends it
        if (asked) this.emit({ type: 'conversation.item.input_audio_transcription.completed', item_id: item.id, content_index: 0, transcript: part.transcript })
      } catch (error) {
        const api = error instanceof ApiError ? error : invalidRequest('The audio could not be transcribed.', null, 'transcription_failed')
        this.emit({ type: 'conversation.item.input_audio_transcription.failed', item_id: item.id, content_index: 0, error: { type: api.type, code: api.code, message: api.message, param: api.param } })
      }
    })
  }

  private update({ session }: z.output<typeof SessionUpdate>) {
    const { client_secret: _secret, ...changes } = session
    if (changes.modalities?.includes('audio') && !this.deps.audio) throw audioModality('session.modalities')
    if (changes.input_audio_format && changes.input_audio_format !== 'pcm16') throw audioFormat('session.input_audio_format')
    if (changes.output_audio_format && changes.output_audio_format !== 'pcm16') throw audioFormat('session.output_audio_format')
    if (changes.turn_detection) throw invalidRequest("Turn detection is not supported by Plinth's Realtime API: set turn_detection to null, commit the input audio buffer and send response.create.", 'session.turn_detection', 'unsupported_value')
    if (changes.model !== undefined && changes.model !== this.config.model) this.deps.checkModel(this.principal, changes.model)
    this.config = { ...this.config, ...(changes as Partial<SessionConfig>) }
    this.emit({ type: 'session.updated', session: this.sessionObject() })
  }

  private createItem({ previous_item_id, item }: z.output<typeof ItemCreate>) {
    const id = item.id ?? newId('item_')
    if (this.items.some((other) => other.id === id)) throw invalidRequest(`Item with item_id '${id}' already exists.`, 'item.id', 'item_already_exists')
    const created = toItem(item, id)
    const at = previous_item_id ? this.items.findIndex((other) => other.id === previous_item_id) : this.items.length - 1
    if (previous_item_id && at < 0) throw invalidRequest(`Previous item with item_id '${previous_item_id}' not found.`, 'previous_item_id', 'item_not_found')
    this.items.splice(at + 1, 0, created)
    // the first item has no previous one: null, as OpenAI sends it (the spec draws a string)
    this.emit({ type: 'conversation.item.created', previous_item_id: at >= 0 ? this.items[at].id : null, item: created })
  }

  private find(id: string): RealtimeItem {
    const item = this.items.find((other) => other.id === id)
    if (!item) throw invalidRequest(`Item with item_id '${id}' not found.`, 'item_id', 'item_not_found')
    return item
  }

  private cancel(responseId: string | undefined) {
    if (!this.active || (responseId && responseId !== this.active.id))
      throw invalidRequest('Cancellation failed: no active response found.', null, 'response_cancel_not_active')
    this.active.cancel()
  }

  private respond(params: ResponseParams) {
    if (this.active) throw invalidRequest(`Conversation already has an active response in progress: ${this.active.id}. Wait until the response is finished before creating a new one.`, null, 'conversation_already_has_active_response')
    const modalities = params.modalities ?? this.config.modalities
    if (modalities.includes('audio') && !this.deps.audio) throw audioModality('response.modalities')
    if (params.output_audio_format && params.output_audio_format !== 'pcm16') throw audioFormat('response.output_audio_format')
    if (modalities.includes('audio') && !params.output_audio_format && this.config.output_audio_format !== 'pcm16') throw audioFormat('session.output_audio_format')
    // `conversation: 'none'` answers out of band: from `input` only, added to no conversation
    const outOfBand = params.conversation === 'none'
    const input = params.input?.map((item, index) => toItem(item, item.id ?? `item_input_${index}`))
    const snapshot = [...this.items]
    const items = () => (input ? (outOfBand ? input : [...snapshot, ...input]) : outOfBand ? [] : snapshot)
    const run = new ResponseRun({
      conversationId: outOfBand ? null : this.conversationId,
      modalities,
      params,
      config: this.config,
      emit: (event) => this.emit(event),
      speak: this.deps.audio?.speak,
      // the model's items join the conversation as they are made (conversation.item.created)
      addItem: outOfBand ? undefined : (item) => {
        const previous = this.items.at(-1)?.id ?? null
        this.items.push(item)
        return previous
      },
    })
    this.active = run
    const transcribed = this.transcribing
    void this.play(run, async () => {
      // committed audio is read as its transcript: the response waits for it
      await transcribed
      return this.chatParams(params, items())
    }).finally(() => {
      if (this.active === run) this.active = undefined
    })
  }

  private async play(run: ResponseRun, prepare: () => Promise<ChatCompletionCreateParams>) {
    let reservation: Reservation | undefined
    try {
      const chat = await prepare()
      reservation = await this.deps.reserve(this.principal, chat.model)
      const options: ChatOptions = { signal: run.signal, limit: reservation }
      const chunks = chunkObjects(this.deps.chat.chunks(this.principal, chat, options))
      await run.play(chunks)
    } catch (error) {
      reservation?.settle(0)
      if (this.closed) return
      run.fail(error)
    }
  }

  private chatParams(params: ResponseParams, items: RealtimeItem[]): ChatCompletionCreateParams {
    const tools = params.tools ?? this.config.tools
    const choice = params.tool_choice ?? this.config.tool_choice
    const max = params.max_response_output_tokens ?? this.config.max_response_output_tokens
    const chat: Record<string, unknown> = {
      model: this.config.model,
      messages: toChatMessages(params.instructions ?? this.config.instructions, items),
      stream: true,
      stream_options: { include_usage: true },
      temperature: params.temperature ?? this.config.temperature,
    }
    if (max !== 'inf') chat.max_completion_tokens = max
    if (tools.length) {
      chat.tools = tools.map((tool) => ({ type: 'function', function: { name: tool.name ?? '', description: tool.description, parameters: tool.parameters ?? { type: 'object', properties: {} } } }))
      chat.tool_choice = ['auto', 'none', 'required'].includes(choice) ? choice : { type: 'function', function: { name: choice } }
    }
    return chat as ChatCompletionCreateParams
  }

  sessionObject() {
    return withoutNulls({ id: this.id, object: 'realtime.session', expires_at: this.expiresAt, ...this.config })
  }

  private emit(event: ServerEvent) {
    if (this.closed) return
    const { type, ...rest } = event
    this.send({ type, event_id: newId('event_'), ...rest })
  }
}

/**
 * The session as the spec draws it: a setting that is off (turn_detection, transcription, noise
 * reduction, tracing) is left out, as the spec's objects are not nullable.
 */
export function withoutNulls<T extends Record<string, unknown>>(session: T): T {
  return Object.fromEntries(Object.entries(session).filter(([, value]) => value !== null)) as T
}

function audioModality(param: string) {
  return invalidRequest("Invalid modalities: 'audio' is not supported: this Plinth's Realtime API serves text only (no audio engines). Use ['text'].", param, 'audio_not_supported')
}

function audioFormat(param: string) {
  return invalidRequest("Only 'pcm16' audio (24 kHz, 16-bit, mono) is supported by Plinth's Realtime API.", param, 'unsupported_value')
}
