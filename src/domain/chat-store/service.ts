import { invalidRequest, notFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ChatCompletionCreateParams } from '../../schemas/chat.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import type { ChatCompletionRow } from '../../storage/repositories/chat-completions.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'

type StoredCompletion = Record<string, unknown> & { id: string; created: number; model: string }

export type ListStoredQuery = {
  model?: string
  metadata?: Record<string, string>
  after?: string
  limit: number
  order: 'asc' | 'desc'
}

/** Chat completions created with `store: true`: list, retrieve, update metadata, delete, messages. */
export class StoredCompletions {
  constructor(private readonly storage: Storage) {}

  /**
   * Keeps the answer as OpenAI's stored object shows it: the completion plus the request's
   * metadata, request id and the sampling settings it was made with (null when not sent).
   */
  async save(principal: ProjectPrincipal, params: ChatCompletionCreateParams, completion: StoredCompletion, requestId?: string) {
    const metadata = params.metadata ?? {}
    const messages = params.messages.map((message, i) => ({ id: `${completion.id}-${i}`, ...message }))
    const response = {
      ...completion,
      metadata,
      request_id: requestId ?? null,
      tool_choice: params.tool_choice ?? null,
      tools: params.tools ?? null,
      response_format: params.response_format ?? null,
      seed: params.seed ?? null,
      temperature: params.temperature ?? null,
      top_p: params.top_p ?? null,
      presence_penalty: params.presence_penalty ?? null,
      frequency_penalty: params.frequency_penalty ?? null,
      input_user: params.user ?? null,
    }
    await createRepos(this.storage.db).chatCompletions.insert({
      id: completion.id,
      project_id: principal.projectId,
      model: completion.model,
      created_at: completion.created,
      metadata: JSON.stringify(metadata),
      messages: JSON.stringify(messages),
      response: JSON.stringify(response),
    })
  }

  async get(principal: ProjectPrincipal, id: string) {
    return toObject(await this.row(principal, id))
  }

  async list(principal: ProjectPrincipal, query: ListStoredQuery): Promise<ListPage<unknown>> {
    const repo = createRepos(this.storage.db).chatCompletions
    const wanted = Object.entries(query.metadata ?? {})
    const data: unknown[] = []
    let after = query.after
    let hasMore = false
    // metadata filters run on the decoded rows: page through until the page is full
    for (;;) {
      const rows = await repo.list(principal.projectId, { after, limit: query.limit, order: query.order, model: query.model })
      const page = rows.slice(0, query.limit)
      for (const row of page) {
        const metadata = JSON.parse(row.metadata) as Record<string, string>
        if (wanted.every(([k, v]) => metadata[k] === v)) {
          if (data.length === query.limit) {
            hasMore = true
            break
          }
          data.push(toObject(row))
        }
      }
      if (hasMore || rows.length <= query.limit) break
      after = page[page.length - 1].id
      if (!wanted.length) {
        hasMore = true
        break
      }
    }
    return toPage(data as { id: string }[], hasMore)
  }

  async update(principal: ProjectPrincipal, id: string, metadata: Record<string, string> | null) {
    const row = await this.row(principal, id)
    const response = { ...JSON.parse(row.response), metadata: metadata ?? {} }
    await createRepos(this.storage.db).chatCompletions.updateMetadata(principal.projectId, id, JSON.stringify(metadata ?? {}), JSON.stringify(response))
    return response
  }

  async delete(principal: ProjectPrincipal, id: string) {
    await this.row(principal, id)
    await createRepos(this.storage.db).chatCompletions.delete(principal.projectId, id)
    return { object: 'chat.completion.deleted', id, deleted: true }
  }

  async messages(principal: ProjectPrincipal, id: string, query: { after?: string; limit: number; order: 'asc' | 'desc' }) {
    const row = await this.row(principal, id)
    let messages = (JSON.parse(row.messages) as { id: string }[]).map(toResponseMessage)
    if (query.order === 'desc') messages = messages.reverse()
    if (query.after) {
      const at = messages.findIndex((m) => m.id === query.after)
      if (at < 0) throw invalidRequest(`No message found with id '${query.after}'.`, 'after')
      messages = messages.slice(at + 1)
    }
    return toPage(messages.slice(0, query.limit), messages.length > query.limit)
  }

  private async row(principal: ProjectPrincipal, id: string): Promise<ChatCompletionRow> {
    const row = await createRepos(this.storage.db).chatCompletions.get(principal.projectId, id)
    if (!row) throw notFound('chat completion', id, 'completion_id')
    return row
  }
}

function toObject(row: ChatCompletionRow) {
  return JSON.parse(row.response)
}

/**
 * A stored input message as the messages list returns it (the spec's example): the text of the
 * content, `content_parts` holding the parts when the content was an array, null fields present.
 */
function toResponseMessage(message: Record<string, any>) {
  const content = message.content
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .filter((p) => p.type === 'text')
            .map((p) => p.text)
            .join('')
        : null
  const out: Record<string, unknown> = {
    id: message.id,
    role: message.role,
    content: text,
    refusal: message.refusal ?? null,
    name: message.name ?? null,
    content_parts: Array.isArray(content) ? content : null,
  }
  if (message.tool_calls) out.tool_calls = message.tool_calls
  if (message.tool_call_id) out.tool_call_id = message.tool_call_id
  return out as { id: string }
}
