import { sql, type Kysely, type Selectable, type Updateable } from 'kysely'
import type {
  BatchesTable,
  BatchLinesTable,
  BatchLineStatus,
  BatchStatus,
  Database,
  JobStatus,
} from '../tables.js'

export type BatchRow = Selectable<BatchesTable>
export type BatchLineRow = Selectable<BatchLinesTable>
export type { BatchLineStatus, BatchStatus }

/** A line's outcome, written once: a line already given one keeps it. */
export type LineResult = {
  line_no: number
  status: Exclude<BatchLineStatus, 'pending'>
  result: string
}

/** Tokens of lines given a result, for the batch's `usage`. */
export type BatchTokens = { input: number; cached: number; output: number }

/** Statuses a batch can still move on from. */
export const UNFINISHED: BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling']
const JOB_ENDED: JobStatus[] = ['succeeded', 'failed', 'cancelled']

/** Batches of a project. Status changes are guarded by the statuses they may start from. */
export class BatchesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: BatchRow) {
    await this.db.insertInto('batches').values(row).execute()
  }

  get(projectId: string, id: string): Promise<BatchRow | undefined> {
    return this.db
      .selectFrom('batches')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /** Newest first, keyset on the time-sortable id; limit+1 rows so the caller can tell has_more. */
  list(projectId: string, query: { after?: string; limit: number }): Promise<BatchRow[]> {
    let q = this.db.selectFrom('batches').selectAll().where('project_id', '=', projectId)
    if (query.after) q = q.where('id', '<', query.after)
    return q
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute()
  }

  /** Moves the batch on if its status is one of `from`; false when it was not. */
  async transition(
    projectId: string,
    id: string,
    from: BatchStatus[],
    set: Updateable<BatchesTable> & { status: BatchStatus },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('batches')
      .set(set)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async setJob(projectId: string, id: string, jobId: string) {
    await this.db
      .updateTable('batches')
      .set({ job_id: jobId })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .execute()
  }

  /**
   * Sets the output or error file once; false if one is set already (another run of the job
   * wrote it first), in which case the caller drops its own.
   */
  async setFile(
    projectId: string,
    id: string,
    column: 'output_file_id' | 'error_file_id',
    fileId: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('batches')
      .set({ [column]: fileId })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where(column, 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /**
   * Adds to request_counts and to the tokens of the batch's `usage`; returns what the job needs
   * to decide whether to go on.
   */
  addCounts(
    projectId: string,
    id: string,
    completed: number,
    failed: number,
    tokens: BatchTokens = { input: 0, cached: 0, output: 0 },
  ): Promise<Pick<BatchRow, 'status' | 'expires_at'> | undefined> {
    return this.db
      .updateTable('batches')
      .set({
        request_completed: sql`request_completed + ${completed}`,
        request_failed: sql`request_failed + ${failed}`,
        usage_input_tokens: sql`usage_input_tokens + ${tokens.input}`,
        usage_cached_tokens: sql`usage_cached_tokens + ${tokens.cached}`,
        usage_output_tokens: sql`usage_output_tokens + ${tokens.output}`,
      })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .returning(['status', 'expires_at'])
      .executeTakeFirst()
  }

  /**
   * For the sweep, across projects: unfinished batches that need a job to move them on (past
   * their window, or cancelling) and have none alive, because it crashed for good or was
   * cancelled while still queued.
   */
  orphaned(now: number, limit: number): Promise<Pick<BatchRow, 'id' | 'project_id'>[]> {
    return this.db
      .selectFrom('batches')
      .leftJoin('jobs', 'jobs.id', 'batches.job_id')
      .select(['batches.id', 'batches.project_id'])
      .where('batches.status', 'in', UNFINISHED)
      .where((eb) =>
        eb.or([eb('batches.status', '=', 'cancelling'), eb('batches.expires_at', '<=', now)]),
      )
      .where((eb) => eb.or([eb('jobs.id', 'is', null), eb('jobs.status', 'in', JOB_ENDED)]))
      .orderBy('batches.id')
      .limit(limit)
      .execute()
  }
}

/**
 * The lines of a batch. Keyed by the batch id alone: callers reach them through a batch they
 * have already found in its project.
 */
export class BatchLinesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Idempotent: a line already there (a validation that ran before a crash) is kept. */
  async insert(rows: BatchLineRow[]) {
    if (rows.length === 0) return
    await this.db
      .insertInto('batch_lines')
      .values(rows)
      .onConflict((oc) => oc.columns(['batch_id', 'line_no']).doNothing())
      .execute()
  }

  /** Lines still to run, in input order after `afterLine`. */
  pending(
    batchId: string,
    afterLine: number,
    limit: number,
  ): Promise<Pick<BatchLineRow, 'line_no' | 'custom_id' | 'request'>[]> {
    return this.db
      .selectFrom('batch_lines')
      .select(['line_no', 'custom_id', 'request'])
      .where('batch_id', '=', batchId)
      .where('status', '=', 'pending')
      .where('line_no', '>', afterLine)
      .orderBy('line_no')
      .limit(limit)
      .execute()
  }

  /**
   * Gives pending lines their results in one statement. A line that has one already keeps it
   * (two runs of a job may overlap), so the counts returned are of the results written now, and
   * `written` lists those lines (what goes with a result, its usage, goes with these only).
   */
  async record(
    batchId: string,
    results: LineResult[],
  ): Promise<{ completed: number; failed: number; written: Set<number> }> {
    if (results.length === 0) return { completed: 0, failed: 0, written: new Set() }
    const cases = (pick: (r: LineResult) => string) =>
      sql`case line_no ${sql.join(
        results.map((r) => sql`when ${r.line_no} then ${pick(r)}`),
        sql` `,
      )} end`
    const written = await this.db
      .updateTable('batch_lines')
      .set({
        status: cases((r) => r.status) as unknown as BatchLineStatus,
        result: cases((r) => r.result) as unknown as string,
      })
      .where('batch_id', '=', batchId)
      .where(
        'line_no',
        'in',
        results.map((r) => r.line_no),
      )
      .where('status', '=', 'pending')
      .returning(['line_no', 'status'])
      .execute()
    const completed = written.filter((w) => w.status === 'completed').length
    return {
      completed,
      failed: written.length - completed,
      written: new Set(written.map((w) => w.line_no)),
    }
  }

  /** Results of one kind, in input order after `afterLine`. */
  results(
    batchId: string,
    status: Exclude<BatchLineStatus, 'pending'>,
    afterLine: number,
    limit: number,
  ): Promise<Pick<BatchLineRow, 'line_no' | 'result'>[]> {
    return this.db
      .selectFrom('batch_lines')
      .select(['line_no', 'result'])
      .where('batch_id', '=', batchId)
      .where('status', '=', status)
      .where('line_no', '>', afterLine)
      .orderBy('line_no')
      .limit(limit)
      .execute()
  }

  async delete(batchId: string) {
    await this.db.deleteFrom('batch_lines').where('batch_id', '=', batchId).execute()
  }
}
