import type { Kysely, Selectable, Updateable } from 'kysely'
import type { RunStatus, RunStepsTable, RunsTable } from '../tables-runs.js'
import type { Database } from '../tables.js'
import { keysetPage, type Keyset, type KeysetPage } from './keyset.js'

export type RunRow = Selectable<RunsTable>
export type RunPatch = Omit<Updateable<RunsTable>, 'id' | 'project_id' | 'thread_id'>
export type RunStepRow = Selectable<RunStepsTable>
export type RunStepPatch = Omit<Updateable<RunStepsTable>, 'id' | 'project_id' | 'run_id'>

/** Runs of a thread, scoped by project and thread like messages. */
export class RunsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: RunRow) {
    await this.db.insertInto('runs').values(row).execute()
  }

  get(projectId: string, threadId: string, id: string): Promise<RunRow | undefined> {
    return this.db
      .selectFrom('runs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  list(projectId: string, threadId: string, page: Keyset): Promise<KeysetPage<RunRow>> {
    const q = this.db
      .selectFrom('runs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
    return keysetPage(q, page)
  }

  /**
   * Updates the run; with `from`, only while its status is one of those (a conditional
   * transition: a cancel and the executor cannot both win). True if a row changed.
   */
  async update(projectId: string, id: string, patch: RunPatch, from?: readonly RunStatus[]) {
    let q = this.db
      .updateTable('runs')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
    if (from) q = q.where('status', 'in', from)
    const result = await q.executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async deleteThread(projectId: string, threadId: string) {
    await this.db
      .deleteFrom('run_steps')
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .execute()
    await this.db
      .deleteFrom('runs')
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .execute()
  }
}

export class RunStepsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: RunStepRow) {
    await this.db.insertInto('run_steps').values(row).execute()
  }

  get(projectId: string, runId: string, id: string): Promise<RunStepRow | undefined> {
    return this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('run_id', '=', runId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  list(projectId: string, runId: string, page: Keyset): Promise<KeysetPage<RunStepRow>> {
    const q = this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('run_id', '=', runId)
    return keysetPage(q, page)
  }

  /** The run's steps, oldest first: what the executor resumes from. */
  all(projectId: string, runId: string): Promise<RunStepRow[]> {
    return this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('run_id', '=', runId)
      .orderBy('id', 'asc')
      .execute()
  }

  async update(projectId: string, id: string, patch: RunStepPatch) {
    await this.db
      .updateTable('run_steps')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .execute()
  }

  async delete(projectId: string, id: string) {
    await this.db
      .deleteFrom('run_steps')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .execute()
  }
}
