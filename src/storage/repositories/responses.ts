import type { CompiledQuery, Insertable, Kysely, Selectable } from 'kysely'
import type { Database } from '../tables.js'
import { CompiledInserts } from './compiled-inserts.js'
import type { ResponseItemsTable, ResponsesTable } from '../tables-responses.js'

export type ResponseRow = Selectable<ResponsesTable>
export type ResponseItemRow = Selectable<ResponseItemsTable>

type ResponseRowInsert = Selectable<ResponsesTable>
type ResponseItemInsert = Selectable<ResponseItemsTable>

const RESPONSE_INSERT = new CompiledInserts<ResponseRowInsert>(
  ['id', 'project_id', 'created_at', 'model', 'status', 'previous_response_id', 'body'],
  (db, rows) => db.insertInto('responses').values(rows),
)
const ITEM_INSERT = new CompiledInserts<ResponseItemInsert>(
  ['response_id', 'project_id', 'kind', 'position', 'id', 'item'],
  (db, rows) => db.insertInto('response_items').values(rows),
)

export type ItemPage = { after?: string; before?: string; limit: number; order: 'asc' | 'desc' }

/** Responses and their items; every read is scoped to the project. */
export class ResponsesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** The response and its items; call inside a transaction so a response is never half-written. */
  async insert(row: Insertable<ResponsesTable>, items: Insertable<ResponseItemsTable>[]) {
    await this.db.insertInto('responses').values(row).execute()
    // bounded batches: SQLite takes at most 32766 bound values a statement
    for (let i = 0; i < items.length; i += 500) {
      await this.db.insertInto('response_items').values(items.slice(i, i + 500)).execute()
    }
  }

  /** A response's status and object, only from one of `from` (a background one moving on). */
  async update(projectId: string, id: string, patch: { status: string; body: string }, from: string[]): Promise<boolean> {
    const result = await this.db
      .updateTable('responses')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** A response's output items, all replaced (a background response's end, a retry's too). */
  async replaceOutput(projectId: string, id: string, items: Insertable<ResponseItemsTable>[]) {
    await this.db.deleteFrom('response_items').where('project_id', '=', projectId).where('response_id', '=', id).where('kind', '=', 'output').execute()
    for (let i = 0; i < items.length; i += 500) {
      await this.db.insertInto('response_items').values(items.slice(i, i + 500)).execute()
    }
  }

  /**
   * The same writes as `insert`, for `storage.runBatch` (one synchronous step on SQLite), their
   * SQL built once per row count (CompiledInserts): compiling them was most of a stored
   * response's cost over chat.
   */
  insertQueries(row: ResponseRowInsert, items: ResponseItemInsert[]): CompiledQuery[] {
    return [...RESPONSE_INSERT.compile(this.db, [row]), ...ITEM_INSERT.compile(this.db, items)]
  }

  get(projectId: string, id: string): Promise<ResponseRow | undefined> {
    return this.db.selectFrom('responses').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    await this.db.deleteFrom('response_items').where('project_id', '=', projectId).where('response_id', '=', id).execute()
    const result = await this.db.deleteFrom('responses').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** Responses of a project, oldest first, keyset on the time-sortable id (an eval run's source). */
  page(projectId: string, query: { after?: string; limit: number; model?: string; status?: string }): Promise<ResponseRow[]> {
    let q = this.db.selectFrom('responses').selectAll().where('project_id', '=', projectId)
    if (query.model) q = q.where('model', '=', query.model)
    if (query.status) q = q.where('status', '=', query.status)
    if (query.after) q = q.where('id', '>', query.after)
    return q.orderBy('id', 'asc').limit(query.limit).execute()
  }

  /** A response's input or output items, in order. */
  items(projectId: string, responseId: string, kind: 'input' | 'output'): Promise<ResponseItemRow[]> {
    return this.db
      .selectFrom('response_items')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('response_id', '=', responseId)
      .where('kind', '=', kind)
      .orderBy('position', 'asc')
      .execute()
  }

  /** The latest stored item with this id in the project (item_reference). */
  findItem(projectId: string, id: string): Promise<ResponseItemRow | undefined> {
    return this.db
      .selectFrom('response_items')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .orderBy('response_id', 'desc')
      .limit(1)
      .executeTakeFirst()
  }

  /**
   * One page of a response's input items. Item ids are the client's or Plinth's and need not
   * sort, so the cursors are turned into positions; `undefined` when a cursor names no item.
   */
  async inputPage(projectId: string, responseId: string, page: ItemPage): Promise<{ rows: ResponseItemRow[]; hasMore: boolean } | undefined> {
    const base = this.db
      .selectFrom('response_items')
      .where('project_id', '=', projectId)
      .where('response_id', '=', responseId)
      .where('kind', '=', 'input')
    const positionOf = async (id: string) =>
      (await base.select('position').where('id', '=', id).orderBy('position', 'asc').limit(1).executeTakeFirst())?.position
    const up = page.order === 'asc'
    let q = base.selectAll()
    if (page.after !== undefined) {
      const at = await positionOf(page.after)
      if (at === undefined) return undefined
      q = q.where('position', up ? '>' : '<', at)
    }
    if (page.before !== undefined) {
      const at = await positionOf(page.before)
      if (at === undefined) return undefined
      q = q.where('position', up ? '<' : '>', at)
    }
    const backwards = page.before !== undefined && page.after === undefined
    const rows = await q
      .orderBy('position', backwards === up ? 'desc' : 'asc')
      .limit(page.limit + 1)
      .execute()
    const hasMore = rows.length > page.limit
    const kept = rows.slice(0, page.limit)
    return { rows: backwards ? kept.reverse() : kept, hasMore }
  }
}
