import { itemNotFound, previousResponseNotFound, responseNotFound } from '../../errors.js'
import { dbLog } from '../../logger.js'
import type { ProjectPrincipal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { ItemPage, ResponseItemRow, ResponseRow } from '../../storage/repositories/responses.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import type { Storage } from '../../storage/storage.js'
import { ConversationsStore, itemRow as conversationItemRow } from './conversations.js'
import type { StoredItem } from './items.js'
import type { ResponseObject } from './objects.js'

/** Longest chain of previous responses followed: a bound on what one request reads. */
const MAX_CHAIN = 1000

/** Stored responses: the object, its input and output items, the conversation behind one. */
export class ResponsesStore {
  /** responses answered and being written (saveBehind): this node's reads wait for them */
  private readonly pending = new Map<string, Promise<void>>()

  /** the Conversations API's store: its items are these items, a response extends them */
  readonly conversations: ConversationsStore

  constructor(private readonly storage: Storage) {
    this.conversations = new ConversationsStore(storage, {
      settled: () => this.settled(),
      item: (principal, id, param) => this.item(principal, id, param),
      shown: (item, include) => withoutImageUrls(item, include?.includes('message.input_image.image_url') ?? false),
    })
  }

  /**
   * `save` off the answer's path: the client has its response before the write ends (the write
   * is most of what a stored response costs over chat). Every read of this node waits for the
   * writes in flight of the id it reads, so a client that retrieves or continues the response at
   * once finds it. A write that fails is logged: that response is not stored.
   */
  saveBehind(principal: ProjectPrincipal, response: ResponseObject, input: StoredItem[]) {
    // after this turn of the event loop: the answer is written first (on SQLite the batch is one
    // synchronous step, which would otherwise run before it)
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.save(principal, response, input))
      .catch((error) => dbLog.error({ err: error, responseId: response.id }, 'storing a response failed'))
      .finally(() => this.pending.delete(response.id))
    this.pending.set(response.id, write)
  }

  /** Waits for every write in flight (shutdown: before storage closes). */
  async drain() {
    await this.settled()
  }

  /** The write in flight of `id`, if any, done (all of them when the id is an item's). */
  private async settled(id?: string) {
    if (!this.pending.size) return
    if (id === undefined) await Promise.all(this.pending.values())
    else await this.pending.get(id)
  }

  /**
   * The response and all its items in one transaction: never half-written. `job` is enqueued in
   * the same transaction (a background response and the job that runs it exist together).
   */
  async save(principal: ProjectPrincipal, response: ResponseObject, input: StoredItem[], job?: { kind: string; id: string; payload: unknown }) {
    const projectId = principal.projectId
    const items = [
      ...input.map((item, position) => ({ kind: 'input' as const, position, item })),
      ...response.output.map((item, position) => ({ kind: 'output' as const, position, item })),
    ].map(({ kind, position, item }) => itemRow(projectId, response.id, kind, position, item))
    const row = {
      id: response.id,
      project_id: projectId,
      created_at: response.created_at,
      model: response.model,
      status: response.status,
      previous_response_id: response.previous_response_id,
      body: JSON.stringify(response),
    }
    const conversation = endedIn(response)
    // the common case, compiled and run as one batch: on SQLite one synchronous step
    if (!job && !conversation) return this.storage.runBatch(createRepos(this.storage.db).responses.insertQueries(row, items))
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if (job) await repos.jobs.enqueue(job.kind, job.payload, { id: job.id })
      await repos.responses.insert(row, items)
      if (conversation) await appendTurn(repos, projectId, conversation, input, response)
    })
  }

  /**
   * A background response moves on (in_progress, then its end): its object and, with `output`,
   * its output items, only if its status is still one of `from`. False when it was not.
   */
  async advance(projectId: string, response: ResponseObject, from: string[], output = false): Promise<boolean> {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const moved = await repos.responses.update(projectId, response.id, { status: response.status, body: JSON.stringify(response) }, from)
      if (moved && output) {
        await repos.responses.replaceOutput(
          projectId,
          response.id,
          response.output.map((item, position) => itemRow(projectId, response.id, 'output', position, item)),
        )
      }
      // a background response's turn joins its conversation when it ends (moved once: never twice)
      const conversation = moved ? endedIn(response) : null
      if (conversation) {
        const input = (await repos.responses.items(projectId, response.id, 'input')).map(parse)
        await appendTurn(repos, projectId, conversation, input, response)
      }
      return moved
    })
  }

  /** Asks the job of a background response to stop (a queued one never starts). */
  async cancelJob(jobId: string) {
    await createRepos(this.storage.db).jobs.requestCancel(jobId)
  }

  /** A response's input items as stored (a background response runs on what its request added). */
  async input(projectId: string, id: string): Promise<StoredItem[]> {
    return (await createRepos(this.storage.db).responses.items(projectId, id, 'input')).map(parse)
  }

  /** The stored object by id alone, or undefined (the background job knows its project). */
  async find(projectId: string, id: string): Promise<ResponseObject | undefined> {
    await this.settled(id)
    const row = await createRepos(this.storage.db).responses.get(projectId, id)
    return row ? (JSON.parse(row.body) as ResponseObject) : undefined
  }

  async get(principal: ProjectPrincipal, id: string): Promise<ResponseObject> {
    return JSON.parse((await this.row(principal, id)).body) as ResponseObject
  }

  async delete(principal: ProjectPrincipal, id: string) {
    await this.row(principal, id)
    await this.storage.transaction((tx) => createRepos(tx.db).responses.delete(principal.projectId, id))
    return { id, object: 'response' as const, deleted: true }
  }

  async row(principal: ProjectPrincipal, id: string): Promise<ResponseRow> {
    await this.settled(id)
    const row = await createRepos(this.storage.db).responses.get(principal.projectId, id)
    if (!row) throw responseNotFound(id)
    return row
  }

  /**
   * The conversation a new response continues: each earlier response's input then output, oldest
   * first. The chain stops at a response deleted since (its later turns still stand).
   */
  async conversation(principal: ProjectPrincipal, previousId: string): Promise<StoredItem[]> {
    await this.settled(previousId)
    const repo = createRepos(this.storage.db).responses
    const first = await repo.get(principal.projectId, previousId)
    if (!first) throw previousResponseNotFound(previousId)
    const turns: StoredItem[][] = []
    let row: ResponseRow | undefined = first
    for (let depth = 0; row && depth < MAX_CHAIN; depth++) {
      const input = await repo.items(principal.projectId, row.id, 'input')
      const output = await repo.items(principal.projectId, row.id, 'output')
      turns.push([...input, ...output].map(parse))
      row = row.previous_response_id ? await repo.get(principal.projectId, row.previous_response_id) : undefined
    }
    return turns.reverse().flat()
  }

  /**
   * GET /v1/responses/{id}/input_items: a page of what the request added to the conversation.
   * Image URLs are shown only when `include` asks for `message.input_image.image_url`.
   */
  async inputItems(principal: ProjectPrincipal, id: string, query: ItemPage & { include?: string[] }): Promise<ListPage<StoredItem>> {
    await this.row(principal, id)
    const page = await createRepos(this.storage.db).responses.inputPage(principal.projectId, id, query)
    if (!page) {
      const [param, cursor] = query.after !== undefined ? ['after', query.after] : ['before', query.before!]
      throw itemNotFound(cursor, param)
    }
    const images = query.include?.includes('message.input_image.image_url') ?? false
    return toPage(page.rows.map((row) => withoutImageUrls(parse(row), images)), page.hasMore)
  }

  /** An item of this project's stored responses or conversations, by id (item_reference). */
  async item(principal: ProjectPrincipal, id: string, param: string): Promise<StoredItem> {
    await this.settled()
    const repos = createRepos(this.storage.db)
    const row = (await repos.responses.findItem(principal.projectId, id)) ?? (await repos.conversations.findProjectItem(principal.projectId, id))
    if (!row) throw itemNotFound(id, param)
    return parse(row)
  }
}

/**
 * The conversation a response's turn joins: one made with `conversation` that completed (or
 * stopped at its output cap); a failed or cancelled one adds nothing, nor one still running.
 */
function endedIn(response: ResponseObject): string | null {
  if (!response.conversation || (response.status !== 'completed' && response.status !== 'incomplete')) return null
  return response.conversation.id
}

/** The request's input items, then the response's output, after the conversation's last items. */
async function appendTurn(repos: ReturnType<typeof createRepos>, projectId: string, conversationId: string, input: StoredItem[], response: ResponseObject) {
  // a conversation deleted while the response ran: the response is stored all the same
  await repos.conversations.append(projectId, conversationId, [...input, ...response.output].map(conversationItemRow))
}

function withoutImageUrls(item: StoredItem, keep: boolean): StoredItem {
  if (keep || item.type !== 'message' || item.role === 'assistant') return item
  if (!item.content.some((p) => p.type === 'input_image')) return item
  return { ...item, content: item.content.map((p) => (p.type === 'input_image' ? { ...p, image_url: null } : p)) }
}

function itemRow(projectId: string, responseId: string, kind: 'input' | 'output', position: number, item: { id: string }) {
  return { response_id: responseId, project_id: projectId, kind, position, id: item.id, item: JSON.stringify(item) }
}

function parse(row: Pick<ResponseItemRow, 'item'>): StoredItem {
  return JSON.parse(row.item) as StoredItem
}
