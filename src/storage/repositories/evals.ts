import type { Kysely, Selectable, Updateable } from 'kysely'
import type { Database } from '../tables.js'
import type { EvalRunOutputItemsTable, EvalRunStatus, EvalRunsTable, EvalsTable } from '../tables-evals.js'

export type EvalRow = Selectable<EvalsTable>
export type EvalRunRow = Selectable<EvalRunsTable>
export type EvalOutputItemRow = Selectable<EvalRunOutputItemsTable>
export type { EvalRunStatus }

type Page = { after?: string; limit: number; order: 'asc' | 'desc' }

/** Evals of a project. Lists return limit+1 rows so the caller can tell has_more. */
export class EvalsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: EvalRow) {
    await this.db.insertInto('evals').values(row).execute()
  }

  get(projectId: string, id: string): Promise<EvalRow | undefined> {
    return this.db.selectFrom('evals').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
  }

  /** Keyset on the time-sortable id, or on (updated_at, id) for order_by=updated_at. */
  async list(projectId: string, page: Page & { orderBy: 'created_at' | 'updated_at' }): Promise<EvalRow[]> {
    const up = page.order === 'asc'
    const cmp = up ? '>' : '<'
    let q = this.db.selectFrom('evals').selectAll().where('project_id', '=', projectId)
    if (page.after !== undefined) {
      if (page.orderBy === 'updated_at') {
        const cursor = await this.get(projectId, page.after)
        // an unknown cursor pages from the start, as an unknown id would by itself
        if (cursor) {
          q = q.where((eb) =>
            eb.or([
              eb('updated_at', cmp, cursor.updated_at),
              eb.and([eb('updated_at', '=', cursor.updated_at), eb('id', cmp, cursor.id)]),
            ]),
          )
        }
      } else q = q.where('id', cmp, page.after)
    }
    const direction = up ? 'asc' : 'desc'
    if (page.orderBy === 'updated_at') q = q.orderBy('updated_at', direction)
    return q.orderBy('id', direction).limit(page.limit + 1).execute()
  }

  async update(projectId: string, id: string, set: Updateable<EvalsTable>) {
    await this.db.updateTable('evals').set(set).where('project_id', '=', projectId).where('id', '=', id).execute()
  }

  /** The eval, its runs and their output items. */
  async delete(projectId: string, id: string): Promise<boolean> {
    await this.db.deleteFrom('eval_run_output_items').where('project_id', '=', projectId).where('eval_id', '=', id).execute()
    await this.db.deleteFrom('eval_runs').where('project_id', '=', projectId).where('eval_id', '=', id).execute()
    const result = await this.db.deleteFrom('evals').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}

export class EvalRunsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: EvalRunRow) {
    await this.db.insertInto('eval_runs').values(row).execute()
  }

  get(projectId: string, evalId: string, id: string): Promise<EvalRunRow | undefined> {
    return this.db
      .selectFrom('eval_runs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('eval_id', '=', evalId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  list(projectId: string, evalId: string, page: Page & { status?: EvalRunStatus }): Promise<EvalRunRow[]> {
    const up = page.order === 'asc'
    let q = this.db.selectFrom('eval_runs').selectAll().where('project_id', '=', projectId).where('eval_id', '=', evalId)
    if (page.status) q = q.where('status', '=', page.status)
    if (page.after !== undefined) q = q.where('id', up ? '>' : '<', page.after)
    return q.orderBy('id', up ? 'asc' : 'desc').limit(page.limit + 1).execute()
  }

  /** Moves a run on only from the statuses given; false when it was in none of them. */
  async transition(id: string, from: EvalRunStatus[], set: Updateable<EvalRunsTable>): Promise<boolean> {
    const result = await this.db.updateTable('eval_runs').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(projectId: string, id: string) {
    await this.db.deleteFrom('eval_run_output_items').where('project_id', '=', projectId).where('run_id', '=', id).execute()
    await this.db.deleteFrom('eval_runs').where('project_id', '=', projectId).where('id', '=', id).execute()
  }

  /** The job ids of an eval's runs still going (deleting the eval stops them). */
  async liveJobs(projectId: string, evalId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('eval_runs')
      .select('job_id')
      .where('project_id', '=', projectId)
      .where('eval_id', '=', evalId)
      .where('status', 'in', ['queued', 'in_progress'])
      .execute()
    return rows.flatMap((r) => (r.job_id ? [r.job_id] : []))
  }
}

export class EvalOutputItemsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Written once per data source item: a second write of the same item (a retried job) is ignored. */
  async insert(row: EvalOutputItemRow): Promise<boolean> {
    const result = await this.db
      .insertInto('eval_run_output_items')
      .values(row)
      .onConflict((oc) => oc.columns(['run_id', 'datasource_item_id']).doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  }

  get(projectId: string, runId: string, id: string): Promise<EvalOutputItemRow | undefined> {
    return this.db
      .selectFrom('eval_run_output_items')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('run_id', '=', runId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  list(projectId: string, runId: string, page: Page & { status?: string }): Promise<EvalOutputItemRow[]> {
    const up = page.order === 'asc'
    let q = this.db.selectFrom('eval_run_output_items').selectAll().where('project_id', '=', projectId).where('run_id', '=', runId)
    if (page.status) q = q.where('status', '=', page.status)
    if (page.after !== undefined) q = q.where('id', up ? '>' : '<', page.after)
    return q.orderBy('id', up ? 'asc' : 'desc').limit(page.limit + 1).execute()
  }

  /** What a resumed run needs of the items already written: their index, outcome and usage. */
  written(runId: string) {
    return this.db
      .selectFrom('eval_run_output_items')
      .select(['datasource_item_id', 'status', 'results', 'sample', 'usage'])
      .where('run_id', '=', runId)
      .execute()
  }
}
