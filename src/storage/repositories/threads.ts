import type { Kysely, Selectable, Updateable } from 'kysely'
import type { ThreadsTable } from '../tables-assistants.js'
import type { Database } from '../tables.js'

/** The counters are the triggers' (migration 0018): the prompt cache reads them, nothing writes them. */
export type ThreadRow = Omit<Selectable<ThreadsTable>, 'messages_added' | 'messages_changed'>
export type ThreadPatch = Pick<Updateable<ThreadsTable>, 'tool_resources' | 'metadata'>

export class ThreadsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ThreadRow) {
    await this.db.insertInto('threads').values(row).execute()
  }

  get(projectId: string, id: string): Promise<ThreadRow | undefined> {
    return this.db
      .selectFrom('threads')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /** A project's newest threads, or those an assistant has run on (the dashboard's list). */
  recent(projectId: string, limit: number, assistantId?: string): Promise<ThreadRow[]> {
    let query = this.db.selectFrom('threads').selectAll().where('project_id', '=', projectId)
    if (assistantId) {
      query = query.where('id', 'in', (eb) =>
        eb.selectFrom('runs').select('thread_id').where('project_id', '=', projectId).where('assistant_id', '=', assistantId),
      )
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()
  }

  /**
   * Locks the thread until the transaction ends (see AssistantsRepo.lock): a message being added
   * and a run starting on the same thread serialize, so G7 cannot be raced. False if not found.
   */
  async lock(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('threads')
      .set((eb) => ({ project_id: eb.ref('project_id') }))
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async update(projectId: string, id: string, patch: ThreadPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('threads')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** For the run engine: takes the thread for `runId`; false if another run holds it (G6). */
  async claimForRun(projectId: string, id: string, runId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('threads')
      .set({ active_run_id: runId })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('active_run_id', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** For the run engine: frees the thread when `runId` ends (a no-op if another run holds it). */
  async releaseFromRun(projectId: string, id: string, runId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('threads')
      .set({ active_run_id: null })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('active_run_id', '=', runId)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('threads')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
