import { threadNotFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type {
  ThreadCreateV1,
  ThreadCreateV2,
  ThreadObject,
  ThreadUpdateV1,
  ThreadUpdateV2,
} from '../../schemas/threads.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { newApiMessage } from './message-input.js'
import {
  messageRow,
  threadRecord,
  type ApiVersion,
  type MessageRecord,
  type ThreadRecord,
} from './records.js'
import { checkIdPrefix, type References } from './references.js'
import { threadCreateInput, threadObject, threadUpdateInput, type Versioned } from './versions.js'

export type ThreadsDeps = { storage: Storage; references: References }

/** Threads and the messages they are created with. */
export class ThreadsService {
  constructor(private readonly deps: ThreadsDeps) {}

  // spec: createThread. The thread and its messages are written together or not at all.
  async create(
    principal: ProjectPrincipal,
    input: Versioned<ThreadCreateV1, ThreadCreateV2>,
  ): Promise<ThreadObject> {
    const params = threadCreateInput(input)
    const { thread } = await this.deps.storage.transaction((tx) =>
      this.insert(tx, principal.projectId, params),
    )
    return threadObject(thread, input.version)
  }

  /**
   * Writes a thread and its messages in `storage` (a transaction of the caller's: the run engine's
   * create-and-run adds its run to the same one).
   */
  async insert(
    storage: Storage,
    projectId: string,
    params: ThreadCreateV2,
  ): Promise<{ thread: ThreadRecord; messages: MessageRecord[] }> {
    const now = nowSeconds()
    const { references } = this.deps
    let toolResources = await references.resolve(storage, projectId, params.tool_resources)
    const thread: ThreadRecord = {
      id: newId('thread_'),
      projectId,
      createdAt: now,
      toolResources,
      metadata: params.metadata ?? {},
      activeRunId: null,
    }
    const messages: MessageRecord[] = []
    // one at a time: ids are time-sortable, so the list order is the order given
    for (const message of params.messages ?? []) {
      const at = { projectId, threadId: thread.id, now }
      messages.push(await newApiMessage(storage, this.deps.references, at, message))
    }
    toolResources = await references.withAttachments(storage, projectId, toolResources, messages)
    thread.toolResources = toolResources
    const repos = createRepos(storage.db)
    await repos.threads.insert({
      id: thread.id,
      project_id: projectId,
      created_at: now,
      tool_resources: JSON.stringify(toolResources),
      metadata: JSON.stringify(thread.metadata),
      active_run_id: null,
    })
    await repos.messages.insert(...messages.map(messageRow))
    return { thread, messages }
  }

  // spec: getThread
  async get(principal: ProjectPrincipal, id: string, version: ApiVersion): Promise<ThreadObject> {
    return threadObject(await this.load(principal.projectId, id), version)
  }

  // spec: modifyThread. Fields left out keep their value.
  async update(
    principal: ProjectPrincipal,
    id: string,
    input: Versioned<ThreadUpdateV1, ThreadUpdateV2>,
  ): Promise<ThreadObject> {
    checkIdPrefix('thread_id', id, 'thread')
    const params = threadUpdateInput(input)
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const repo = createRepos(tx.db).threads
      if (!(await repo.lock(projectId, id))) throw threadNotFound(id)
      const current = threadRecord((await repo.get(projectId, id))!)
      const given = 'tool_resources' in params ? params.tool_resources : undefined
      const thread: ThreadRecord = {
        ...current,
        toolResources: await this.deps.references.resolve(
          tx,
          projectId,
          given,
          current.toolResources,
        ),
        metadata: params.metadata === undefined ? current.metadata : (params.metadata ?? {}),
      }
      await repo.update(projectId, id, {
        tool_resources: JSON.stringify(thread.toolResources),
        metadata: JSON.stringify(thread.metadata),
      })
      return threadObject(thread, input.version)
    })
  }

  // spec: deleteThread. Its messages go with it.
  async delete(principal: ProjectPrincipal, id: string) {
    checkIdPrefix('thread_id', id, 'thread')
    const projectId = principal.projectId
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if (!(await repos.threads.lock(projectId, id))) throw threadNotFound(id)
      await repos.runs.deleteThread(projectId, id)
      await repos.messages.deleteThread(projectId, id)
      await repos.threads.delete(projectId, id)
    })
    return { id, object: 'thread.deleted' as const, deleted: true }
  }

  /**
   * A project's newest threads, or those an assistant ran on. Not an API operation (OpenAI has no
   * thread list): the dashboard's way in to a thread's messages and runs.
   */
  async recent(principal: ProjectPrincipal, options: { limit: number; assistantId?: string }, version: ApiVersion = 'v2'): Promise<ThreadObject[]> {
    const rows = await createRepos(this.deps.storage.db).threads.recent(principal.projectId, options.limit, options.assistantId)
    return rows.map((row) => threadObject(threadRecord(row), version))
  }

  /** The stored thread (for messages and the run engine), or G5 / G4. */
  async load(projectId: string, id: string, storage = this.deps.storage): Promise<ThreadRecord> {
    checkIdPrefix('thread_id', id, 'thread')
    const row = await createRepos(storage.db).threads.get(projectId, id)
    if (!row) throw threadNotFound(id)
    return threadRecord(row)
  }
}
