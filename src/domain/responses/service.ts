import { ApiError, fileNotFound, invalidRequest, notAChatModel, ProviderError } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { ChatCompletionCreateParams } from '../../schemas/chat.js'
import type { ResponseCreateParams } from '../../schemas/responses.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { FilesService } from '../files/service.js'
import type { ChatOptions, ChatService } from '../inference/chat.js'
import { chunkObjects } from '../inference/serialized.js'
import { detached } from './detach.js'
import { ResponseEvents, type ChatDelta, type ResponseEvent } from './events.js'
import { checkCallPairs, storedInput, type StoredItem } from './items.js'
import { chatMessages } from './messages.js'
import { endOf, outputItems, responseObject, responseUsage, type ResponseObject, type ResponseState } from './objects.js'
import { asResponsesError, chatRequest } from './request.js'
import { checkResponsesStrictSchemas } from '../../schemas/strict-schema.js'
import { ResponsesStore } from './store.js'
import { truncateToContext } from './truncation.js'

export type ResponsesDeps = {
  store: ResponsesStore
  providers: ProviderRegistry
  chat: Pick<ChatService, 'create' | 'chunks'>
  files: Pick<FilesService, 'find' | 'bytes'>
}

export type ResponseOptions = Pick<ChatOptions, 'signal' | 'requestId' | 'limit'>

type Prepared = { input: StoredItem[]; chat: ChatCompletionCreateParams }

type ChatChunk = {
  choices?: { delta?: ChatDelta; finish_reason?: string | null }[]
  usage?: Parameters<typeof responseUsage>[0]
}

/** Images a model reads from a file id are sent as data URLs; over this they are refused. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }

/**
 * POST /v1/responses on the chat domain: the request becomes a chat call (request.ts), so every
 * provider serves it, and the chat answer, whole or streamed, becomes output items.
 */
export class ResponsesService {
  constructor(private readonly deps: ResponsesDeps) {}

  get store(): ResponsesStore {
    return this.deps.store
  }

  /** Everything checked before the model is called: a bad request stores and runs nothing. */
  private async prepare(principal: ProjectPrincipal, params: ResponseCreateParams, stream: boolean, signal: AbortSignal): Promise<Prepared> {
    const { card } = this.deps.providers.resolve(params.model, principal.models)
    if (!card.capabilities.chat) throw notAChatModel()
    checkResponsesStrictSchemas(params)
    const { store } = this.deps
    const history = params.previous_response_id ? await store.conversation(principal, params.previous_response_id) : []
    const input = await storedInput(params.input, (id, param) => store.item(principal, id, param))
    const conversation = [...history, ...input]
    checkCallPairs(conversation)
    let messages = await chatMessages(params.instructions, conversation, (fileId) => this.imageUrl(principal, fileId))
    if (params.truncation === 'auto') messages = await truncateToContext(card, messages, params.max_output_tokens ?? 0, signal)
    return { input, chat: chatRequest(card, params, messages, stream) }
  }

  async create(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): Promise<ResponseObject> {
    try {
      const { input, chat } = await this.prepare(principal, params, false, options.signal)
      const id = newId('resp_')
      const createdAt = nowSeconds()
      const completion = (await this.deps.chat.create(principal, chat, options)) as unknown as { choices: { message: never; finish_reason: string }[]; usage: never }
      const choice = completion.choices[0]
      const end = endOf(choice.finish_reason)
      const output = outputItems(choice.message, end.status === 'completed' ? 'completed' : 'incomplete')
      const response = responseObject(id, createdAt, params, { ...end, output, usage: responseUsage(completion.usage) })
      if (params.store !== false) await this.deps.store.save(principal, response, input)
      return response
    } catch (error) {
      throw asResponsesError(error)
    }
  }

  /**
   * A streamed response's events. A stored one runs to its end and is saved even if the client
   * goes away (detached, on a signal of its own); one with `store: false` stops with its client.
   */
  events(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): AsyncIterable<ResponseEvent> {
    if (params.store === false) return this.streamEvents(principal, params, options)
    return detached(this.streamEvents(principal, params, { ...options, signal: new AbortController().signal }))
  }

  private async *streamEvents(principal: ProjectPrincipal, params: ResponseCreateParams, options: ResponseOptions): AsyncGenerator<ResponseEvent> {
    let input: StoredItem[]
    let chunks: AsyncIterator<Record<string, unknown>>
    let first: IteratorResult<Record<string, unknown>>
    try {
      const prepared = await this.prepare(principal, params, true, options.signal)
      input = prepared.input
      chunks = chunkObjects(this.deps.chat.chunks(principal, prepared.chat, options))[Symbol.asyncIterator]()
      // the model's first chunk comes before the first event: a failure there is a plain 4xx/5xx
      first = await chunks.next()
    } catch (error) {
      throw asResponsesError(error)
    }
    const id = newId('resp_')
    const createdAt = nowSeconds()
    const events = new ResponseEvents()
    const snapshot = (state: ResponseState) => responseObject(id, createdAt, params, state)
    const started = snapshot({ status: 'in_progress', output: [], usage: null })
    let finish: string | null | undefined
    let usage: ChatChunk['usage']
    let failure: { code: string; message: string } | null = null
    try {
      yield events.event('response.created', { response: started })
      yield events.event('response.in_progress', { response: started })
      for (let next = first; !next.done; next = await chunks.next()) {
        const chunk = next.value as ChatChunk
        if (chunk.usage) usage = chunk.usage
        const choice = chunk.choices?.[0]
        if (!choice) continue
        if (choice.delta) yield* events.delta(choice.delta)
        if (choice.finish_reason) finish = choice.finish_reason
      }
    } catch (error) {
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
      if (params.store !== false) await this.deps.store.save(principal, failed, input)
      yield events.event('response.failed', { response: failed })
      return
    }
    const end = endOf(finish)
    yield* events.finish(end.status === 'completed' ? 'completed' : 'incomplete')
    const response = snapshot({ ...end, output: events.output, usage: responseUsage(usage) })
    // saved before the last event: a client that saw it completed can retrieve it at once
    if (params.store !== false) await this.deps.store.save(principal, response, input)
    yield events.event(end.status === 'completed' ? 'response.completed' : 'response.incomplete', { response })
  }

  /** An input_image's file id as the data URL a chat model reads. */
  private async imageUrl(principal: ProjectPrincipal, fileId: string): Promise<string> {
    const file = await this.deps.files.find(principal.projectId, fileId)
    if (!file) throw fileNotFound(fileId)
    if (file.bytes > MAX_IMAGE_BYTES) {
      throw invalidRequest(`Invalid image file '${fileId}': ${file.bytes} bytes is over the ${MAX_IMAGE_BYTES} bytes an image may have.`, 'input', 'image_file_too_large')
    }
    const type = IMAGE_TYPES[file.filename.split('.').pop()?.toLowerCase() ?? ''] ?? 'image/png'
    return `data:${type};base64,${(await this.deps.files.bytes(principal.projectId, fileId)).toString('base64')}`
  }
}

/** A failure after the stream began, as the Response's error (its code is one of the spec's). */
function failureOf(error: unknown): { code: string; message: string } {
  const status = error instanceof ApiError || error instanceof ProviderError ? error.status : 500
  const message = error instanceof ApiError || error instanceof ProviderError ? error.message : 'The model failed to generate a response.'
  return { code: status === 429 ? 'rate_limit_exceeded' : 'server_error', message }
}
