import type { Kysely, Selectable, Updateable } from 'kysely'
import type {
  FineTuningCheckpointsTable,
  FineTuningEventsTable,
  FineTuningJobsTable,
  FineTuningPermissionsTable,
  FineTuningStatus,
} from '../tables-fine-tuning.js'
import type { Database } from '../tables.js'

export type FineTuningJobRow = Selectable<FineTuningJobsTable>
export type FineTuningEventRow = Selectable<FineTuningEventsTable>
export type FineTuningCheckpointRow = Selectable<FineTuningCheckpointsTable>
export type FineTuningPermissionRow = Selectable<FineTuningPermissionsTable>
export type { FineTuningStatus }

type Page = { after?: string; limit: number }

/** Fine-tuning jobs of a project. Status changes are guarded by the statuses they may start from. */
export class FineTuningJobsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: FineTuningJobRow) {
    await this.db.insertInto('fine_tuning_jobs').values(row).execute()
  }

  get(projectId: string, id: string): Promise<FineTuningJobRow | undefined> {
    return this.db
      .selectFrom('fine_tuning_jobs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /** Newest first, keyset on the time-sortable id; limit+1 rows so the caller can tell has_more. */
  list(projectId: string, query: Page): Promise<FineTuningJobRow[]> {
    let q = this.db.selectFrom('fine_tuning_jobs').selectAll().where('project_id', '=', projectId)
    if (query.after) q = q.where('id', '<', query.after)
    return q
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute()
  }

  /** The job that made a fine-tuned model, in any project (names are unique). */
  byModel(model: string): Promise<FineTuningJobRow | undefined> {
    return this.db
      .selectFrom('fine_tuning_jobs')
      .selectAll()
      .where('fine_tuned_model', '=', model)
      .executeTakeFirst()
  }

  /** Jobs whose models are served: succeeded and not deleted. */
  served(): Promise<FineTuningJobRow[]> {
    return this.db
      .selectFrom('fine_tuning_jobs')
      .selectAll()
      .where('status', '=', 'succeeded')
      .where('fine_tuned_model', 'is not', null)
      .where('model_deleted_at', 'is', null)
      .execute()
  }

  /**
   * Jobs that have not ended (the sweep looks for those whose runner job is gone); paused ones
   * too when asked (they hold no runner job: the sweep leaves them, serving their checkpoints does not).
   */
  unfinished(limit: number, options: { paused?: boolean } = {}): Promise<FineTuningJobRow[]> {
    const statuses: FineTuningStatus[] = ['validating_files', 'queued', 'running', ...(options.paused ? (['paused'] as const) : [])]
    return this.db
      .selectFrom('fine_tuning_jobs')
      .selectAll()
      .where('status', 'in', statuses)
      .orderBy('id')
      .limit(limit)
      .execute()
  }

  async update(projectId: string, id: string, set: Updateable<FineTuningJobsTable>) {
    await this.db
      .updateTable('fine_tuning_jobs')
      .set(set)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .execute()
  }

  /** Moves the job on if its status is one of `from`; false when it was not. */
  transition(
    projectId: string,
    id: string,
    from: FineTuningStatus[],
    set: Updateable<FineTuningJobsTable> & { status: FineTuningStatus },
  ): Promise<boolean> {
    return this.updateIn(projectId, id, from, set)
  }

  /** Updates only while the job runs or is paused (a cancel that came first wins). */
  updateRunning(projectId: string, id: string, set: Updateable<FineTuningJobsTable>) {
    return this.updateIn(projectId, id, ['validating_files', 'queued', 'running', 'paused'], set)
  }

  private async updateIn(projectId: string, id: string, from: FineTuningStatus[], set: Updateable<FineTuningJobsTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('fine_tuning_jobs')
      .set(set)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }
}

/** A job's events, newest first. */
export class FineTuningEventsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: FineTuningEventRow) {
    await this.db.insertInto('fine_tuning_events').values(row).execute()
  }

  list(jobId: string, query: Page): Promise<FineTuningEventRow[]> {
    return pageOfJob(this.db, 'fine_tuning_events', jobId, query)
  }

  metrics(jobId: string): Promise<FineTuningEventRow[]> {
    return this.db
      .selectFrom('fine_tuning_events')
      .selectAll()
      .where('fine_tuning_job_id', '=', jobId)
      .where('type', '=', 'metrics')
      .orderBy('id')
      .execute()
  }

  async delete(ids: string[]) {
    if (ids.length) await this.db.deleteFrom('fine_tuning_events').where('id', 'in', ids).execute()
  }
}

/** A job's checkpoints, newest first. */
export class FineTuningCheckpointsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: FineTuningCheckpointRow) {
    await this.db.insertInto('fine_tuning_checkpoints').values(row).execute()
  }

  list(jobId: string, query: Page): Promise<FineTuningCheckpointRow[]> {
    return pageOfJob(this.db, 'fine_tuning_checkpoints', jobId, query)
  }

  forJob(jobId: string): Promise<FineTuningCheckpointRow[]> {
    return this.db
      .selectFrom('fine_tuning_checkpoints')
      .selectAll()
      .where('fine_tuning_job_id', '=', jobId)
      .orderBy('step_number')
      .execute()
  }

  byModel(model: string): Promise<FineTuningCheckpointRow | undefined> {
    return this.db
      .selectFrom('fine_tuning_checkpoints')
      .selectAll()
      .where('fine_tuned_model_checkpoint', '=', model)
      .executeTakeFirst()
  }

  async deleteForJob(jobId: string) {
    await this.db
      .deleteFrom('fine_tuning_checkpoints')
      .where('fine_tuning_job_id', '=', jobId)
      .execute()
  }
}

/** Projects granted a fine-tuned model (or checkpoint) of another project. */
export class FineTuningPermissionsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts unless the project has the model already; the existing or new row. */
  async grant(row: FineTuningPermissionRow): Promise<FineTuningPermissionRow> {
    const existing = await this.db
      .selectFrom('fine_tuning_permissions')
      .selectAll()
      .where('fine_tuned_model_checkpoint', '=', row.fine_tuned_model_checkpoint)
      .where('project_id', '=', row.project_id)
      .executeTakeFirst()
    if (existing) return existing
    await this.db.insertInto('fine_tuning_permissions').values(row).execute()
    return row
  }

  list(
    orgId: string,
    model: string,
    query: Page & { projectId?: string; order: 'ascending' | 'descending' },
  ): Promise<FineTuningPermissionRow[]> {
    let q = this.db
      .selectFrom('fine_tuning_permissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('fine_tuned_model_checkpoint', '=', model)
    if (query.projectId) q = q.where('project_id', '=', query.projectId)
    const desc = query.order === 'descending'
    if (query.after) q = q.where('id', desc ? '<' : '>', query.after)
    return q
      .orderBy('id', desc ? 'desc' : 'asc')
      .limit(query.limit + 1)
      .execute()
  }

  get(orgId: string, model: string, id: string): Promise<FineTuningPermissionRow | undefined> {
    return this.db
      .selectFrom('fine_tuning_permissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('fine_tuned_model_checkpoint', '=', model)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  async delete(id: string) {
    await this.db.deleteFrom('fine_tuning_permissions').where('id', '=', id).execute()
  }

  /** Every grant (serving at boot). */
  all(): Promise<FineTuningPermissionRow[]> {
    return this.db.selectFrom('fine_tuning_permissions').selectAll().execute()
  }

  async deleteForModel(model: string) {
    await this.db
      .deleteFrom('fine_tuning_permissions')
      .where('fine_tuned_model_checkpoint', '=', model)
      .execute()
  }
}

/** A page of a job's events or checkpoints, newest first, one more than asked (for has_more). */
function pageOfJob<T extends 'fine_tuning_events' | 'fine_tuning_checkpoints'>(
  db: Kysely<Database>,
  table: T,
  jobId: string,
  query: Page,
): Promise<Selectable<Database[T]>[]> {
  // the two tables share these columns; Kysely cannot see that through the union of their names
  const rows = db.selectFrom(table as 'fine_tuning_events').selectAll().where('fine_tuning_job_id', '=', jobId)
  return (query.after ? rows.where('id', '<', query.after) : rows)
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute() as Promise<Selectable<Database[T]>[]>
}
