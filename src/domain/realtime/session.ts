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
import type { AudioEngines } from './audio.js'
import type { AudioFormat } from './g711.js'
import { InputAudio, type ServerVad } from './input.js'
import { truncateItem, type Truncation } from './truncate.js'

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
  /** How long the session lasts (OpenAI's: 30 minutes): expires_at, when the socket closes. */
  sessionSeconds?: number
}

/** The session's configuration, as session.created shows it. */
export type SessionConfig = {
  model: string
  modalities: ('text' | 'audio')[]
  instructions: string
  voice: string
  input_audio_format: AudioFormat
  output_audio_format: AudioFormat
  input_audio_transcription: unknown
  turn_detection: ServerVad | null
  input_audio_noise_reduction: unknown
  tools: RealtimeTool[]
  tool_choice: string
  temperature: number
  max_response_output_tokens: number | 'inf'
  speed: number
  tracing: unknown
}

/**
 * turn_detection as a session answers it: server_vad with OpenAI's documented defaults for what
 * the client left out (threshold 0.5, 300 ms of prefix padding, 500 ms of silence, a response
 * and interruptions on), `null` off. `semantic_vad` needs a turn-detection model Plinth does not
 * have: refused, naming it. Server VAD's `eagerness` does not apply (semantic_vad's only): dropped.
 */
export function turnDetection(asked: { type?: string; threshold?: number; prefix_padding_ms?: number; silence_duration_ms?: number; create_response?: boolean; interrupt_response?: boolean } | null, param: string): ServerVad | null {
  if (asked === null) return null
  if (asked.type === 'semantic_vad')
    throw invalidRequest("Invalid value: 'semantic_vad'. Plinth's Realtime API supports 'server_vad' turn detection only (an energy-based voice activity detector): use 'server_vad', or null to turn it off.", `${param}.type`, 'unsupported_value')
  return {
    type: 'server_vad',
    threshold: asked.threshold ?? 0.5,
    prefix_padding_ms: asked.prefix_padding_ms ?? 300,
    silence_duration_ms: asked.silence_duration_ms ?? 500,
    create_response: asked.create_response ?? true,
    interrupt_response: asked.interrupt_response ?? true,
  }
}

/**
 * The session a socket or a key starts with when nothing else is asked: server_vad as OpenAI's
 * session.created shows it (its silence is 200 ms, where the field's documented default is 500).
 */
export const DEFAULT_TURN_DETECTION: ServerVad = { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200, create_response: true, interrupt_response: true }

/** OpenAI's defaults: text and audio, pcm16, server VAD. */
export function defaultSession(model: string): SessionConfig {
  return {
    model,
    modalities: ['text', 'audio'],
    instructions: '',
    voice: 'alloy',
    input_audio_format: 'pcm16',
    output_audio_format: 'pcm16',
    input_audio_transcription: null,
    turn_detection: { ...DEFAULT_TURN_DETECTION },
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

/**
 * Audio events Plinth does not serve even with its audio engines: output_audio_buffer.clear is
 * WebRTC's only (the spec's description), transcription_session.update is for transcription-only
 * sockets, which Plinth does not open.
 */
const UNSERVED_EVENTS = new Set(['output_audio_buffer.clear', 'transcription_session.update'])
const INPUT_AUDIO_EVENTS = new Set(['input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear'])
const Truncate = z.strictObject({ type: z.literal('conversation.item.truncate'), event_id: z.string().optional(), item_id: z.string(), content_index: z.int(), audio_end_ms: z.int() })
const AudioAppend = z.strictObject({ type: z.literal('input_audio_buffer.append'), event_id: z.string().optional(), audio: z.string() })
const BufferEvent = z.strictObject({ type: z.string(), event_id: z.string().optional() })

/** An `error` event in OpenAI's shape, naming the client event it answers. */
export function errorEvent(error: { type: string; code: string | null; message: string; param: string | null }, eventId: string | null): ServerEvent {
  return { type: 'error', event_id: newId('event_'), error: { type: error.type, code: error.code, message: error.message, param: error.param, event_id: eventId } }
}

const parse = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => validate(schema, value)

/**
 * One Realtime connection: its session configuration, its conversation and at most one response
 * at a time, driven by the client's events (`handle`, one after the other: an append's audio is
 * analysed in slices, and the events after it wait) and answering through `send`.
 */
export class RealtimeSession {
  readonly id = newId('sess_')
  readonly conversationId = newId('conv_')
  /** OpenAI's sessions last 30 minutes (the socket closes then: expire()). */
  readonly seconds: number
  private readonly expiresAt: number
  private items: RealtimeItem[] = []
  private active: { run: ResponseRun; outOfBand: boolean; done: Promise<void> } | undefined
  private closed = false
  private queue: Promise<void> = Promise.resolve()
  /** The audio of the model's spoken items, for conversation.item.truncate. */
  private readonly spoken = new Map<string, Truncation>()
  private readonly input = new InputAudio({
    settings: () => this.config,
    emit: (event) => this.emit(event),
    commit: (wav, itemId) => this.commit(wav, itemId),
    speechStarted: (vad) => {
      // interrupt_response: a response for the conversation stops when the user speaks
      if (vad.interrupt_response && this.active && !this.active.outOfBand) this.active.run.cancel('turn_detected')
    },
    turnEnded: (vad) => {
      if (vad.create_response) this.respondWhenFree()
    },
    closed: () => this.closed,
  })
  /** Transcriptions of committed audio, in order: a response waits for them. */
  private transcribing: Promise<void> = Promise.resolve()
  private readonly aborted = new AbortController()

  constructor(
    private readonly deps: SessionDeps,
    private readonly principal: ProjectPrincipal,
    private config: SessionConfig,
    private readonly send: (event: ServerEvent) => void,
  ) {
    this.seconds = deps.sessionSeconds ?? 1800
    this.expiresAt = Math.floor(Date.now() / 1000) + this.seconds
  }

  start() {
    this.emit({ type: 'session.created', session: this.sessionObject() })
  }

  /** The socket closed: a response in flight stops (its usage so far is recorded by chat). */
  close() {
    this.closed = true
    this.aborted.abort()
    this.active?.run.cancel()
  }

  /**
   * The session's time is up: OpenAI's `session_expired` error event (as OpenAI words it: "Your
   * session hit the maximum duration of 30 minutes."); the socket then closes.
   */
  expire(): string {
    const length = this.seconds % 60 === 0 ? `${this.seconds / 60} minutes` : `${this.seconds} seconds`
    const message = `Your session hit the maximum duration of ${length}.`
    if (!this.closed) this.send(errorEvent({ type: 'invalid_request_error', code: 'session_expired', message, param: null }, null))
    this.close()
    return message
  }

  /** One client event, as the socket's text frame, handled once the ones before it are. */
  handle(text: string) {
    this.queue = this.queue.then(() => this.process(text))
  }

  private async process(text: string) {
    if (this.closed) return
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
      await this.dispatch(base.data.type, raw)
    } catch (error) {
      // never thrown on: the socket's message handler has no one above it but the process
      const api = error instanceof ApiError ? error : undefined
      if (!api) this.deps.onError?.(error)
      const shown = api ?? { type: 'server_error', code: null, message: 'The server had an error while processing your event.', param: null }
      this.send(errorEvent({ type: shown.type, code: shown.code, message: shown.message, param: shown.param }, eventId))
    }
  }

  private dispatch(type: string, raw: unknown): void | Promise<void> {
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
    if (type === 'conversation.item.truncate' && this.deps.audio) return this.truncate(parse(Truncate, raw))
    if (INPUT_AUDIO_EVENTS.has(type) && this.deps.audio) return this.inputAudio(type, raw)
    if (type === 'output_audio_buffer.clear' && this.deps.audio)
      throw invalidRequest("'output_audio_buffer.clear' is only supported over WebRTC. Over a WebSocket, send response.cancel and conversation.item.truncate.", 'type', 'audio_not_supported')
    if (INPUT_AUDIO_EVENTS.has(type) || UNSERVED_EVENTS.has(type) || type === 'conversation.item.truncate')
      throw invalidRequest(`'${type}' is not supported by Plinth's Realtime API${this.deps.audio ? '' : ', which serves text only here (no audio engines)'}. ${this.deps.audio ? 'Commit the input audio buffer and send response.create.' : 'Send text with conversation.item.create.'}`, 'type', 'audio_not_supported')
    throw invalidRequest(`Invalid value: '${type}'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', 'response.create', and 'response.cancel'.`, 'type', 'invalid_value')
  }

  private inputAudio(type: string, raw: unknown) {
    if (type === 'input_audio_buffer.append') return this.input.append(parse(AudioAppend, raw).audio)
    parse(BufferEvent, raw)
    if (type === 'input_audio_buffer.clear') return this.input.clear()
    this.input.commit()
  }

  /** conversation.item.truncate: the assistant's audio cut where the user stopped hearing it. */
  private truncate(event: z.output<typeof Truncate>) {
    const item = this.find(event.item_id)
    this.spoken.set(item.id, truncateItem(item, this.spoken.get(item.id), event.content_index, event.audio_end_ms))
    this.emit({ type: 'conversation.item.truncated', item_id: item.id, content_index: event.content_index, audio_end_ms: event.audio_end_ms })
  }

  /** create_response: a response once the one in flight (if interrupt_response left it) is done. */
  private respondWhenFree() {
    if (this.closed) return
    if (this.active) return void this.active.done.then(() => this.respondWhenFree())
    try {
      this.respond({})
    } catch (error) {
      if (!(error instanceof ApiError)) return this.deps.onError?.(error)
      this.send(errorEvent({ type: error.type, code: error.code, message: error.message, param: error.param }, null))
    }
  }

  /** The committed audio becomes a user item; its transcript (the model reads text) follows. */
  private commit(wav: Buffer, itemId: string) {
    const previous = this.items.at(-1)?.id ?? null
    const part: { type: 'input_audio'; transcript: string | null } = { type: 'input_audio', transcript: null }
    const item: RealtimeItem = { id: itemId, object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [part] }
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
    const { client_secret: _secret, turn_detection, ...changes } = session
    if (changes.modalities?.includes('audio') && !this.deps.audio) throw audioModality('session.modalities')
    const detection = turn_detection === undefined ? this.config.turn_detection : turnDetection(turn_detection, 'session.turn_detection')
    if (changes.model !== undefined && changes.model !== this.config.model) this.deps.checkModel(this.principal, changes.model)
    this.config = { ...this.config, ...(changes as Partial<SessionConfig>), turn_detection: detection }
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
    if (!this.active || (responseId && responseId !== this.active.run.id))
      throw invalidRequest('Cancellation failed: no active response found.', null, 'response_cancel_not_active')
    this.active.run.cancel('client_cancelled')
  }

  private respond(params: ResponseParams) {
    if (this.active) throw invalidRequest(`Conversation already has an active response in progress: ${this.active.run.id}. Wait until the response is finished before creating a new one.`, null, 'conversation_already_has_active_response')
    const modalities = params.modalities ?? this.config.modalities
    if (modalities.includes('audio') && !this.deps.audio) throw audioModality('response.modalities')
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
      // what each spoken item's audio lasts, for conversation.item.truncate (not out of band: not in the conversation)
      onAudio: outOfBand ? undefined : (itemId, ms) => this.spoken.set(itemId, { ms }),
      // the model's items join the conversation as they are made (conversation.item.created)
      addItem: outOfBand ? undefined : (item) => {
        const previous = this.items.at(-1)?.id ?? null
        this.items.push(item)
        return previous
      },
    })
    const transcribed = this.transcribing
    const done = this.play(run, async () => {
      // committed audio is read as its transcript: the response waits for it
      await transcribed
      return this.chatParams(params, items())
    }).finally(() => {
      if (this.active?.run === run) this.active = undefined
    })
    this.active = { run, outOfBand, done }
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
      messages: toChatMessages(params.instructions ?? this.config.instructions, items, (item) => this.spoken.get(item.id)?.heard),
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
