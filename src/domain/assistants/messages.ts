import { messageNotFound, threadHasActiveRun, threadNotFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type {
  MessageCreateV1,
  MessageCreateV2,
  MessageListQuery,
  MessageObject,
  MessageUpdate,
} from '../../schemas/messages.js'
import type { ListPage } from '../../schemas/shared.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { attachToThreadStore, newApiMessage } from './message-input.js'
import { listOf } from './pages.js'
import {
  messageRecord,
  messageRow,
  threadRecord,
  type ApiVersion,
  type MessageRecord,
} from './records.js'
import { checkIdPrefix, type References } from './references.js'
import type { ThreadsService } from './threads.js'
import { messageCreateInput, messageObject, type Versioned } from './versions.js'

export type MessagesDeps = { storage: Storage; references: References; threads: ThreadsService }

/** Messages of a thread: those written through the API here; the run engine writes its own. */
export class MessagesService {
  constructor(private readonly deps: MessagesDeps) {}

  // spec: createMessage. Refused while a run holds the thread (G7).
  async create(
    principal: ProjectPrincipal,
    threadId: string,
    input: Versioned<MessageCreateV1, MessageCreateV2>,
  ): Promise<MessageObject> {
    checkIdPrefix('thread_id', threadId, 'thread')
    const params = messageCreateInput(input)
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      // locked: a run starting now either sees this message or makes it wait and fail
      if (!(await repos.threads.lock(projectId, threadId))) throw threadNotFound(threadId)
      const thread = threadRecord((await repos.threads.get(projectId, threadId))!)
      if (thread.activeRunId) throw threadHasActiveRun(threadId, thread.activeRunId)
      const at = { projectId, threadId, now: nowSeconds() }
      const message = await newApiMessage(tx, this.deps.references, at, params)
      await attachToThreadStore(tx, this.deps.references, thread, [message])
      await repos.messages.insert(messageRow(message))
      return messageObject(message, input.version)
    })
  }

  // spec: listMessages (with the run_id filter)
  async list(
    principal: ProjectPrincipal,
    threadId: string,
    query: MessageListQuery,
    version: ApiVersion,
  ): Promise<ListPage<MessageObject>> {
    await this.deps.threads.load(principal.projectId, threadId)
    const { run_id, ...page } = query
    const rows = await createRepos(this.deps.storage.db).messages.list(
      principal.projectId,
      threadId,
      { ...page, runId: run_id },
    )
    return listOf(rows, (row) => messageObject(messageRecord(row), version))
  }

  // spec: getMessage
  async get(
    principal: ProjectPrincipal,
    threadId: string,
    id: string,
    version: ApiVersion,
  ): Promise<MessageObject> {
    return messageObject(await this.load(principal.projectId, threadId, id), version)
  }

  // spec: modifyMessage. Only metadata changes; null clears it.
  async update(
    principal: ProjectPrincipal,
    threadId: string,
    id: string,
    params: MessageUpdate,
    version: ApiVersion,
  ): Promise<MessageObject> {
    const message = await this.load(principal.projectId, threadId, id)
    if (params.metadata === undefined) return messageObject(message, version)
    const updated = { ...message, metadata: params.metadata ?? {} }
    const repo = createRepos(this.deps.storage.db).messages
    const patch = { metadata: JSON.stringify(updated.metadata) }
    // deleted meanwhile
    if (!(await repo.update(principal.projectId, threadId, id, patch))) throw messageNotFound(id)
    return messageObject(updated, version)
  }

  // spec: deleteMessage
  async delete(principal: ProjectPrincipal, threadId: string, id: string) {
    await this.load(principal.projectId, threadId, id)
    const repo = createRepos(this.deps.storage.db).messages
    if (!(await repo.delete(principal.projectId, threadId, id))) throw messageNotFound(id)
    return { id, object: 'thread.message.deleted' as const, deleted: true }
  }

  /** The stored message, or G5 (thread or message id), G4, or the message's 404. */
  async load(
    projectId: string,
    threadId: string,
    id: string,
    storage = this.deps.storage,
  ): Promise<MessageRecord> {
    checkIdPrefix('thread_id', threadId, 'thread')
    checkIdPrefix('message_id', id, 'msg')
    await this.deps.threads.load(projectId, threadId, storage)
    const row = await createRepos(storage.db).messages.get(projectId, threadId, id)
    if (!row) throw messageNotFound(id)
    return messageRecord(row)
  }
}
