import { ApiError, conversationWithPreviousResponse, fileNotFound, invalidRequest, notAChatModel, ProviderError, responseNotCancellable } from '../../errors.js'
import type { ModelPolicy, ProjectPrincipal } from '../../principal.js'
import type { Provider, TokenLogprob } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { ChatCompletionCreateParams, ChatMessageParam, Tool } from '../../schemas/chat.js'
import type { InputTokenCountParams, ResponseCreateParams } from '../../schemas/responses.js'
import { countChatPromptTokensAsync } from '../inference/tokens.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { imageContentType } from '../files/content-type.js'
import type { FilesService } from '../files/service.js'
import type { ChatOptions, ChatService } from '../inference/chat.js'
import { chunkObjects } from '../inference/serialized.js'
import { detached } from './detach.js'
import { builtinNamed, type ToolRegistry, type ToolResult } from '../tools/index.js'
import type { UsageRecorder } from '../inference/usage.js'
import { SandboxBusyError, SandboxStartError, SandboxUnavailableError } from '../../sandbox/index.js'
import { MAX_BUILTIN_TURNS, responseBuiltins, withoutBuiltins, type Builtins } from './builtins.js'
import { ResponseEvents, type CapturedCall, type ChatDelta, type ResponseEvent } from './events.js'
import { checkCallPairs, storedInput, type StoredItem } from './items.js'
import { LiveResponses } from './live.js'
import { textLogprobs } from './logprobs.js'
import { chatMessages } from './messages.js'
import { conversationIdOf, endOf, outputItems, type BuiltinCallOutput, responseObject, responseUsage, type ResponseObject, type ResponseState } from './objects.js'
import { asResponsesError, chatRequest } from './request.js'
import { checkResponsesStrictSchemas } from '../../schemas/strict-schema.js'
import { asPlinthResponse, upstreamBody } from './native.js'
import { replayEvents } from './replay.js'
import { ResponsesStore } from './store.js'
import { truncateToContext } from './truncation.js'

export type ResponsesDeps = {
  store: ResponsesStore
  providers: ProviderRegistry
  chat: Pick<ChatService, 'create' | 'chunks'>
  files: Pick<FilesService, 'find' | 'bytes'>
  /** polls the job runner now (context.ts passes jobs.wake) */
  wake?: () => void
  /** the built-in tools (file_search, code_interpreter) Assistants runs use too */
  tools?: ToolRegistry
  /** the Containers API: a code_interpreter tool naming a container is checked with it */
  containers?: { check(projectId: string, id: string): Promise<void> }
  /** what built-in calls use (a query's embedding, a code session) is billed with it */
  usage?: Pick<UsageRecorder, 'record'>
}

/** The job that runs a background response (jobs/response-run.ts registers it). */
export const RESPONSE_JOB = 'response.run'

/** What the job knows: who asked, for what; the response row has the rest. */
export type ResponseJob = {
  projectId: string
  orgId: string
  keyId: string
  models?: ModelPolicy
  responseId: string
  params: ResponseCreateParams
}

/** Statuses a background response is still running in. */
const ACTIVE = ['queued', 'in_progress']
const INTERRUPTED = { code: 'server_error', message: 'The response was interrupted too often.' }
/** How often a reader of a response running on another node looks at its row. */
const POLL_MS = 1000

export type ResponseOptions = Pick<ChatOptions, 'signal' | 'requestId' | 'limit' | 'batch' | 'usageSink'>

type Prepared = { input: StoredItem[]; chat: ChatCompletionCreateParams; builtins: Builtins | null }

/** What a generation needs to call the model again after built-in tools ran. */
type Turns = { principal: ProjectPrincipal; prepared: Prepared; params: ResponseCreateParams; options: ChatOptions }

type ChatChunk = {
  choices?: { delta?: ChatDelta; logprobs?: { content?: TokenLogprob[] | null } | null; finish_reason?: string | null }[]
  usage?: Parameters<typeof responseUsage>[0]
}

/** Images a model reads from a file id are sent as data URLs; over this they are refused. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024

/**
 * POST /v1/responses on the chat domain: the request becomes a chat call (request.ts), so every
 * provider serves it, and the chat answer, whole or streamed, becomes output items.
 */
export class ResponsesService {
  /** the background responses this process runs, for their readers */
  private readonly live = new LiveResponses()

  constructor(private readonly deps: ResponsesDeps) {}

  get store(): ResponsesStore {
    return this.deps.store
  }

  /** Everything checked before the model is called: a bad request stores and runs nothing. */
  private async prepare(principal: ProjectPrincipal, params: ResponseCreateParams, id: string, stream: boolean, signal: AbortSignal): Promise<Prepared> {
    const { store } = this.deps
    const input = await storedInput(params.input, (itemId, param) => store.item(principal, itemId, param))
    return this.chatFor(principal, params, id, input, stream, signal)
  }

  /** The chat call for a request whose input items are known (a background one reads them stored). */
  private async chatFor(principal: ProjectPrincipal, params: ResponseCreateParams, id: string, input: StoredItem[], stream: boolean, signal: AbortSignal): Promise<Prepared> {
    const { card } = this.deps.providers.resolve(params.model, principal.models)
    if (!card.capabilities.chat) throw notAChatModel()
    checkResponsesStrictSchemas(params)
    const builtins = await responseBuiltins(this.deps.tools, params, principal.projectId, id, this.deps.containers)
    const history = await this.history(principal, params)
    const conversation = [...history, ...input]
    checkCallPairs(conversation)
    let messages = await chatMessages(params.instructions, conversation, (fileId) => this.imageUrl(principal, fileId))
    if (params.truncation === 'auto') messages = await truncateToContext(card, messages, params.max_output_tokens ?? 0, signal)
    return { input, builtins, chat: chatRequest(card, params, messages, stream, builtins) }
  }

  /**
   * What comes before the request's input: the items of its `conversation`, or the turns of its
   * `previous_response_id` chain (not both, as OpenAI refuses).
   */
  private async history(principal: ProjectPrincipal, params: Pick<ResponseCreateParams, 'conversation' | 'previous_response_id'>): Promise<StoredItem[]> {
    const { store } = this.deps
    const conversation = conversationIdOf(params)
    if (conversation !== null && params.previous_response_id != null) throw conversationWithPreviousResponse()
    if (conversation !== null) return store.conversations.history(principal, conversation)
    return params.previous_response_id ? store.conversation(principal, params.previous_response_id) : []
  }

  /**
   * POST /v1/responses/input_tokens: the prompt tokens a response would be charged for its
   * instructions, history, input and tools, counted as chat counts a prompt (inference/tokens.ts:
   * the o200k tokenizer, an image part at its base cost). Nothing is stored or run.
   */
  async inputTokens(principal: ProjectPrincipal, params: InputTokenCountParams, signal?: AbortSignal) {
    const { store } = this.deps
    if (params.model != null) this.deps.providers.resolve(params.model, principal.models)
    try {
      const history = await this.history(principal, params)
      const input = params.input == null ? [] : await storedInput(params.input, (itemId, param) => store.item(principal, itemId, param))
      // an image's bytes are never read: each image part counts its fixed cost
      const messages = await chatMessages(params.instructions, [...history, ...input], async () => 'data:,')
      const tools = (params.tools ?? []).map((tool) =>
        tool.type === 'function' ? { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters, strict: tool.strict } } : tool,
      ) as Tool[]
      const count = await countChatPromptTokensAsync(messages, tools.length ? tools : undefined, { signal })
      return { object: 'response.input_tokens' as const, input_tokens: count }
    } catch (error) {
      throw asResponsesError(error)
    }
  }

  async create(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): Promise<ResponseObject> {
    if (params.background) return this.enqueue(principal, params, options.signal)
    const native = this.nativeUpstream(principal, params)
    if (native) return lastResponse(this.nativeEvents(principal, params, native, options, false))
    try {
      const id = newId('resp_')
      const prepared = await this.prepare(principal, params, id, !!params.tools?.some((t) => t.type !== 'function'), options.signal)
      // built-in tools run in a loop of model calls: the streamed path, read to its end
      if (prepared.builtins) return await lastResponse(this.generate(principal, params, id, prepared, options))
      const { input, chat } = prepared
      const createdAt = nowSeconds()
      const completion = (await this.deps.chat.create(principal, chat, options)) as unknown as { choices: (Parameters<typeof outputItems>[0] & { finish_reason: string })[]; usage: never }
      const choice = completion.choices[0]
      const end = endOf(choice.finish_reason)
      const output = outputItems(choice, end.status === 'completed' ? 'completed' : 'incomplete')
      const response = responseObject(id, createdAt, params, { ...end, output, usage: responseUsage(completion.usage) })
      if (params.store !== false) this.deps.store.saveBehind(principal, response, input)
      return response
    } catch (error) {
      throw asResponsesError(error)
    }
  }

  /**
   * A streamed response's events. A stored one runs to its end and is saved even if the client
   * goes away (detached, on a signal of its own); one with `store: false` stops with its client.
   * A background one runs on the job runner; the client reads its events as they come.
   */
  events(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): AsyncIterable<ResponseEvent> {
    if (params.background) return this.backgroundEvents(principal, params, options)
    if (params.store === false) return this.streamEvents(principal, params, options)
    return detached(this.streamEvents(principal, params, { ...options, signal: new AbortController().signal }))
  }

  private async *streamEvents(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): AsyncGenerator<ResponseEvent> {
    const native = this.nativeUpstream(principal, params)
    if (native) {
      yield* this.nativeEvents(principal, params, native, options, true)
      return
    }
    const id = newId('resp_')
    let prepared: Prepared
    try {
      prepared = await this.prepare(principal, params, id, true, options.signal)
    } catch (error) {
      throw asResponsesError(error)
    }
    yield* this.generate(principal, params, id, prepared, options)
  }

  private async *generate(principal: ProjectPrincipal, params: ResponseCreateParams, id: string, prepared: Prepared, options: ChatOptions): AsyncGenerator<ResponseEvent> {
    const chat = prepared.chat.stream ? prepared.chat : { ...prepared.chat, stream: true as const, stream_options: { include_usage: true } }
    let chunks: AsyncIterator<Record<string, unknown>>
    let first: IteratorResult<Record<string, unknown>>
    try {
      chunks = chunkObjects(this.deps.chat.chunks(principal, chat, options))[Symbol.asyncIterator]()
      // the model's first chunk comes before the first event: a failure there is a plain 4xx/5xx
      first = await chunks.next()
    } catch (error) {
      throw asResponsesError(error)
    }
    const createdAt = nowSeconds()
    const save = async (response: ResponseObject) => {
      if (params.store !== false) await this.deps.store.save(principal, response, prepared.input)
    }
    const turns = { principal, prepared: { ...prepared, chat }, params, options }
    yield* this.play((state) => responseObject(id, createdAt, params, state), chunks, first, save, turns)
  }

  /**
   * The events of one generation, from `response.created` to its end, and its save just before
   * the last event. `first` is the model's first chunk when the caller already read it.
   * `cancelled` says whether a failure was a cancel: the response ends `cancelled`, no event.
   */
  private async *play(
    snapshot: (state: ResponseState) => ResponseObject,
    chunks: AsyncIterator<Record<string, unknown>>,
    first: IteratorResult<Record<string, unknown>> | null,
    save: (response: ResponseObject) => Promise<void>,
    turns: Turns,
    cancelled: () => boolean = () => false,
  ): AsyncGenerator<ResponseEvent> {
    const builtins = turns.prepared.builtins
    const events = new ResponseEvents(new Set(builtins?.tools.map((tool) => tool.functionName)))
    /** the model's calls of built-in tools and their results, sent with each later call */
    const extra: ChatMessageParam[] = []
    const started = snapshot({ status: 'in_progress', output: [], usage: null })
    let finish: string | null | undefined
    let usage: ChatChunk['usage']
    let failure: { code: string; message: string } | null = null
    /** built-in calls the response may still run (`max_tool_calls`); the model's others are ignored */
    let budget = turns.params.max_tool_calls ?? Infinity
    try {
      yield events.event('response.created', { response: started })
      yield events.event('response.in_progress', { response: started })
      for (let turn = 0; ; turn++) {
        for (let next = first ?? (await chunks.next()); !next.done; next = await chunks.next()) {
          const chunk = next.value as ChatChunk
          if (chunk.usage) usage = addUsage(usage, chunk.usage)
          const choice = chunk.choices?.[0]
          if (!choice) continue
          if (choice.delta) yield* events.delta(choice.delta, textLogprobs(choice.logprobs?.content))
          if (choice.finish_reason) finish = choice.finish_reason
        }
        const calls = events.takeBuiltinCalls().slice(0, budget)
        if (!calls.length || !builtins) break
        if (turn + 1 >= MAX_BUILTIN_TURNS) throw new ApiError(500, `The model called built-in tools ${turn + 1} times in a row without answering.`, 'server_error')
        budget -= calls.length
        yield* this.runBuiltins(events, builtins, calls, turn, extra, turns)
        // the model answers with the results
        finish = null
        first = null
        await chunks.return?.()
        let chat = { ...turns.prepared.chat, messages: [...turns.prepared.chat.messages, ...extra] }
        // a forced call was made: the model now answers with its results (or calls again, freely)
        if (chat.tool_choice && chat.tool_choice !== 'none' && chat.tool_choice !== 'auto') chat.tool_choice = 'auto'
        if (budget <= 0) chat = withoutBuiltins(chat, builtins)
        chunks = chunkObjects(this.deps.chat.chunks(turns.principal, chat, turns.options))[Symbol.asyncIterator]()
      }
    } catch (error) {
      if (cancelled()) {
        events.finish('incomplete')
        await save(snapshot({ status: 'cancelled', output: events.output, usage: responseUsage(usage) }))
        return
      }
      failure = failureOf(error)
    } finally {
      // the client left a response that is not stored: the model call stops with it
      await chunks.return?.()
    }
    if (failure) {
      yield events.event('error', { code: failure.code, message: failure.message, param: null })
      // what was written so far stays in the output, its items cut short (no more events for them)
      events.finish('incomplete')
      const failed = snapshot({ status: 'failed', output: events.output, usage: responseUsage(usage), error: failure })
      await save(failed)
      yield events.event('response.failed', { response: failed })
      return
    }
    const end = endOf(finish)
    yield* events.finish(end.status === 'completed' ? 'completed' : 'incomplete')
    const response = snapshot({ ...end, output: events.output, usage: responseUsage(usage) })
    // saved before the last event: a client that saw it completed can retrieve it at once
    await save(response)
    yield events.event(end.status === 'completed' ? 'response.completed' : 'response.incomplete', { response })
  }

  /**
   * `background: true`: everything is checked now (bad input is this request's 4xx), then the
   * response is stored `queued` with the job that runs it, in one transaction.
   */
  private async enqueue(principal: ProjectPrincipal, params: ResponseCreateParams, signal: AbortSignal): Promise<ResponseObject> {
    if (params.store === false) throw invalidRequest("Background responses cannot be created with 'store' set to false.", 'store', 'invalid_value')
    const id = newId('resp_')
    let input: StoredItem[]
    try {
      input = (await this.prepare(principal, params, id, true, signal)).input
    } catch (error) {
      throw asResponsesError(error)
    }
    const response = responseObject(id, nowSeconds(), params, { status: 'queued', output: [], usage: null })
    const payload: ResponseJob = { projectId: principal.projectId, orgId: principal.orgId, keyId: principal.keyId, responseId: response.id, params }
    if (principal.models) payload.models = principal.models
    await this.deps.store.save(principal, response, input, { kind: RESPONSE_JOB, id: jobId(response.id), payload })
    this.deps.wake?.()
    return response
  }

  private async *backgroundEvents(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): AsyncGenerator<ResponseEvent> {
    const response = await this.enqueue(principal, params, options.signal)
    yield* this.follow(principal.projectId, response.id, -1)
  }

  /**
   * GET /v1/responses/{id}?stream=true: the response's events after `startingAfter`, live while
   * it runs here; from its stored object once it has ended (or when it runs on another node).
   */
  async *retrieveEvents(principal: ProjectPrincipal, id: string, startingAfter = -1): AsyncGenerator<ResponseEvent> {
    await this.deps.store.row(principal, id)
    yield* this.follow(principal.projectId, id, startingAfter)
  }

  private async *follow(projectId: string, id: string, after: number): AsyncGenerator<ResponseEvent> {
    const { live, store } = this
    for (;;) {
      const entry = live.get(id)
      if (entry) {
        for (const event of entry.events) if (event.sequence_number > after) yield event
        after = Math.max(after, entry.events.length - 1)
        if (entry.done) return
      } else {
        const stored = await store.find(projectId, id)
        if (!stored) return
        if (!ACTIVE.includes(stored.status)) {
          for (const event of replayEvents(stored)) if (event.sequence_number > after) yield event
          return
        }
      }
      // running (or queued) here or elsewhere: the next event here, or another look at the row
      if (!live.get(id)?.done) await live.wait(id, POLL_MS)
    }
  }

  /** POST /v1/responses/{id}/cancel: only a background response; one that has ended is as it is. */
  async cancel(principal: ProjectPrincipal, id: string): Promise<ResponseObject> {
    const { store } = this
    const response = await store.get(principal, id)
    if (!response.background) throw responseNotCancellable()
    if (!ACTIVE.includes(response.status)) return response
    const cancelled = { ...response, status: 'cancelled' as const }
    if (!(await store.advance(principal.projectId, cancelled, ACTIVE))) return store.get(principal, id)
    // here, the model call stops at once; elsewhere, at the job's next heartbeat
    this.live.cancel(id)
    await store.cancelJob(jobId(id))
    return cancelled
  }

  /**
   * The response.run job: the background response's generation, its events to live readers, its
   * end stored. Run again after a crash, it starts over (the row is still queued or in_progress);
   * one that has ended, or was cancelled, is left as it is.
   */
  async runJob(job: ResponseJob, options: { signal: AbortSignal; lastAttempt: boolean }): Promise<void> {
    const { store, live } = this
    const { projectId, responseId: id, params } = job
    const stored = await store.find(projectId, id)
    if (!stored || !ACTIVE.includes(stored.status)) return
    if (stored.status === 'in_progress' && options.lastAttempt) {
      // earlier attempts began it and died (a crash each time): it is not tried once more
      await store.advance(projectId, responseObject(id, stored.created_at, params, { status: 'failed', output: [], usage: null, error: INTERRUPTED }), ACTIVE, true)
      return
    }
    const principal: ProjectPrincipal = { orgId: job.orgId, projectId, keyId: job.keyId, kind: 'project', permissions: { mode: 'all' } }
    if (job.models) principal.models = job.models
    const entry = live.open(id)
    const abort = () => entry.controller.abort()
    options.signal.addEventListener('abort', abort)
    // the job's signal without a cancel (a lost lease, a shutdown): the next attempt runs it
    const interrupted = () => options.signal.aborted && (options.signal.reason as { reason?: string } | undefined)?.reason !== 'cancel'
    const cancelled = () => entry.controller.signal.aborted && !interrupted()
    const snapshot = (state: ResponseState) => responseObject(id, stored.created_at, params, state)
    const save = async (response: ResponseObject) => {
      if (interrupted()) throw options.signal.reason
      await store.advance(projectId, response, response.status === 'cancelled' ? [...ACTIVE, 'cancelled'] : ACTIVE, true)
    }
    try {
      if (!(await store.advance(projectId, snapshot({ status: 'in_progress', output: [], usage: null }), ACTIVE))) return
      let chunks: AsyncIterator<Record<string, unknown>>
      let turns: Turns
      try {
        const prepared = await this.chatFor(principal, params, id, await store.input(projectId, id), true, entry.controller.signal)
        turns = { principal, prepared, params, options: { signal: entry.controller.signal } }
        chunks = chunkObjects(this.deps.chat.chunks(principal, prepared.chat, turns.options))[Symbol.asyncIterator]()
      } catch (error) {
        if (interrupted()) throw error
        const failure = failureOf(asResponsesError(error))
        await save(snapshot({ status: 'failed', output: [], usage: null, error: failure }))
        return
      }
      for await (const event of this.play(snapshot, chunks, null, save, turns, cancelled)) live.push(id, entry, event)
      if (interrupted()) throw options.signal.reason
    } catch (error) {
      // the last attempt's failure ends the response: no runner will take it up again
      if (!options.lastAttempt) throw error
      const failure = interrupted() ? INTERRUPTED : failureOf(error)
      await store.advance(projectId, snapshot({ status: 'failed', output: [], usage: null, error: failure }), ACTIVE, true)
    } finally {
      options.signal.removeEventListener('abort', abort)
      live.close(id, entry)
    }
  }

  /**
   * The model's calls of built-in tools, run one after another: each an output item (in
   * progress, then completed with what it found), its result a tool message the model reads next.
   */
  private async *runBuiltins(events: ResponseEvents, builtins: Builtins, calls: CapturedCall[], turn: number, extra: ChatMessageParam[], turns: Turns): AsyncGenerator<ResponseEvent> {
    const include = turns.params.include ?? []
    const withIds = calls.map((call) => ({ ...call, id: call.id || newId('call_') }))
    extra.push({ role: 'assistant', content: null, tool_calls: withIds.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) })
    for (const call of withIds) {
      const tool = builtinNamed(builtins.tools, call.name)!
      const itemId = newId(tool.type === 'file_search' ? 'fs_' : 'ci_')
      const fields = (result: ToolResult | null): BuiltinCallOutput => {
        const item = { ...tool.toOutputItem(call, result, include), id: itemId } as BuiltinCallOutput
        if (item.type === 'code_interpreter_call') item.container_id = builtins.scope.threadId
        return item
      }
      const started = events.builtinStarted(fields(null))
      yield* started.events
      const result = await tool.execute(call, { ...builtins.scope, turn }, turns.options.signal)
      for (const entry of result.usage) void this.deps.usage?.record(turns.principal, entry, turns.options.usageSink)
      events.cite(
        result.answer.annotations
          .filter((a) => a.type === 'file_citation')
          .map((a) => ({ text: a.text, file_id: a.file_id, filename: a.text.slice(a.text.indexOf('†') + 1, -1) })),
      )
      if (result.containerFiles) events.wrote(result.containerFiles.map((f) => ({ container_id: f.containerId, file_id: f.fileId, path: f.path, filename: f.name.slice(f.name.lastIndexOf('/') + 1) })))
      yield* events.builtinDone(started.index, fields(result))
      extra.push({ role: 'tool', tool_call_id: call.id, content: result.modelOutput })
    }
  }

  /** The model's upstream, when it serves the Responses API itself (`upstreams[].responses`). */
  private nativeUpstream(principal: ProjectPrincipal, params: ResponseCreateParams): NativeUpstream | null {
    const { card, provider, upstreamModel } = this.deps.providers.resolve(params.model, principal.models)
    if (!card.capabilities.chat || !provider.responses || !provider.responsesStream) return null
    return { provider: provider as NativeUpstream['provider'], upstreamModel }
  }

  /**
   * A response from an upstream's own /responses: the conversation is Plinth's (sent whole, the
   * upstream stores nothing), the upstream's events are forwarded with Plinth's response id and
   * the public model written in, and the response is stored as Plinth's, with the upstream's
   * items. `stream` false: one whole answer, as the events' last response.
   */
  private async *nativeEvents(principal: ProjectPrincipal, params: ResponseCreateParams, native: NativeUpstream, options: ResponseOptions, stream: boolean): AsyncGenerator<ResponseEvent> {
    const { store } = this.deps
    const id = newId('resp_')
    const createdAt = nowSeconds()
    let input: StoredItem[]
    let body: Record<string, unknown>
    try {
      const history = await this.history(principal, params)
      input = await storedInput(params.input, (itemId, param) => store.item(principal, itemId, param))
      checkCallPairs([...history, ...input])
      body = upstreamBody(params, native.upstreamModel, [...history, ...input])
    } catch (error) {
      throw asResponsesError(error)
    }
    const finish = async (response: ResponseObject) => {
      const usage = response.usage
      if (usage) {
        options.limit?.settle(usage.input_tokens + usage.output_tokens)
        const entry = { operation: 'completions' as const, model: params.model, inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, cachedTokens: usage.input_tokens_details?.cached_tokens ?? 0, batch: options.batch }
        void this.deps.usage?.record(principal, entry, options.usageSink)
      }
      if (params.store !== false) await store.save(principal, response, input)
    }
    if (!stream) {
      const response = asPlinthResponse(await native.provider.responses({ body, signal: options.signal }), id, createdAt, params)
      await finish(response)
      yield { type: 'response.completed', sequence_number: 0, response }
      return
    }
    const events = native.provider.responsesStream({ body, signal: options.signal })[Symbol.asyncIterator]()
    // the upstream's first event comes before ours: a refusal there is a plain 4xx/5xx
    let next = await events.next()
    for (; !next.done; next = await events.next()) {
      const event = next.value as ResponseEvent
      if (event.response && typeof event.response === 'object') {
        const response = asPlinthResponse(event.response as Record<string, unknown>, id, createdAt, params)
        if (TERMINAL_EVENTS.has(event.type)) await finish(response)
        yield { ...event, response }
      } else yield event
    }
  }

  /** An input_image's file id as the data URL a chat model reads. */
  private async imageUrl(principal: ProjectPrincipal, fileId: string): Promise<string> {
    const file = await this.deps.files.find(principal.projectId, fileId)
    if (!file) throw fileNotFound(fileId)
    if (file.bytes > MAX_IMAGE_BYTES) {
      throw invalidRequest(`Invalid image file '${fileId}': ${file.bytes} bytes is over the ${MAX_IMAGE_BYTES} bytes an image may have.`, 'input', 'image_file_too_large')
    }
    const type = imageContentType(file.filename)
    return `data:${type};base64,${(await this.deps.files.bytes(principal.projectId, fileId)).toString('base64')}`
  }
}

/** A non-streamed response with built-in tools: its stream's last response. */
async function lastResponse(events: AsyncIterable<ResponseEvent>): Promise<ResponseObject> {
  let last: ResponseObject | undefined
  for await (const event of events) if (event.response) last = event.response as ResponseObject
  return last!
}

/** Usage over a response's model calls (built-in tools make more than one). */
function addUsage(sum: ChatChunk['usage'], more: NonNullable<ChatChunk['usage']>): NonNullable<ChatChunk['usage']> {
  if (!sum) return more
  return {
    prompt_tokens: sum.prompt_tokens + more.prompt_tokens,
    completion_tokens: sum.completion_tokens + more.completion_tokens,
    prompt_tokens_details: { cached_tokens: (sum.prompt_tokens_details?.cached_tokens ?? 0) + (more.prompt_tokens_details?.cached_tokens ?? 0) },
    completion_tokens_details: { reasoning_tokens: (sum.completion_tokens_details?.reasoning_tokens ?? 0) + (more.completion_tokens_details?.reasoning_tokens ?? 0) },
  }
}

/** The events that end a response: it is stored just before the client sees one. */
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed'])

type NativeUpstream = { provider: Required<Pick<Provider, 'responses' | 'responsesStream'>>; upstreamModel: string }

/** One job per background response, named for it: enqueueing it twice is a no-op. */
function jobId(responseId: string): string {
  return `job_${responseId}`
}

/** A failure after the stream began, as the Response's error (its code is one of the spec's). */
function failureOf(error: unknown): { code: string; message: string } {
  const status = error instanceof ApiError || error instanceof ProviderError ? error.status : 500
  // the sandbox's own message names what to install (or that all sessions are busy), as a run's last_error does
  const sandbox = error instanceof SandboxUnavailableError || error instanceof SandboxBusyError || error instanceof SandboxStartError
  const message = error instanceof ApiError || error instanceof ProviderError || sandbox ? error.message : 'The model failed to generate a response.'
  return { code: status === 429 ? 'rate_limit_exceeded' : 'server_error', message }
}
