import { sql, type Kysely, type Selectable, type Updateable } from 'kysely'
import { dialectOf } from '../dialect.js'
import type { Database } from '../tables.js'
import type {
  VectorStoreFileBatchesTable,
  VectorStoreFilesTable,
  VectorStoreFileState,
  VectorStoresTable,
} from '../tables-vector-stores.js'
import { keysetPage, type Keyset, type KeysetPage } from './keyset.js'

export type VectorStoreRow = Selectable<VectorStoresTable>
export type VectorStoreFileRow = Selectable<VectorStoreFilesTable>
export type VectorStoreFileBatchRow = Selectable<VectorStoreFileBatchesTable>
export type { VectorStoreFileState }

/** Per store (or batch): files by status and the bytes they hold. */
export type FileTally = Record<VectorStoreFileState, number> & { usage_bytes: number }

const emptyTally = (): FileTally => ({ in_progress: 0, completed: 0, failed: 0, cancelled: 0, usage_bytes: 0 })

/** Vector stores of a project. */
export class VectorStoresRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: VectorStoreRow) {
    await this.db.insertInto('vector_stores').values(row).execute()
  }

  get(projectId: string, id: string): Promise<VectorStoreRow | undefined> {
    return this.db
      .selectFrom('vector_stores')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /** Stores by id across projects (the purge job and the sweep, which have no project). */
  getAny(id: string): Promise<VectorStoreRow | undefined> {
    return this.db.selectFrom('vector_stores').selectAll().where('id', '=', id).executeTakeFirst()
  }

  list(projectId: string, page: Keyset): Promise<KeysetPage<VectorStoreRow>> {
    return keysetPage(
      this.db.selectFrom('vector_stores').selectAll().where('project_id', '=', projectId),
      page,
    )
  }

  async update(projectId: string, id: string, set: Updateable<VectorStoresTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('vector_stores')
      .set(set)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /**
   * The store was used now: last_active_at moves, and with it expires_at when the store expires
   * after a number of days of inactivity. An expired store stays expired.
   */
  async touch(projectId: string, id: string, now: number) {
    await this.db
      .updateTable('vector_stores')
      .set({
        last_active_at: now,
        expires_at: sql`case when expires_after_days is null then expires_at else ${now} + expires_after_days * 86400 end`,
      })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('expired_at', 'is', null)
      .execute()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('vector_stores')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** The sweep: stores whose expiry passed become expired; returns their ids. */
  async expire(now: number, limit: number): Promise<string[]> {
    const due = await this.db
      .selectFrom('vector_stores')
      .select('id')
      .where('expired_at', 'is', null)
      .where('expires_at', '<=', now)
      .limit(limit)
      .execute()
    if (!due.length) return []
    await this.db
      .updateTable('vector_stores')
      .set({ expired_at: sql`expires_at` })
      .where(
        'id',
        'in',
        due.map((r) => r.id),
      )
      .where('expired_at', 'is', null)
      .execute()
    return due.map((r) => r.id)
  }

  /** Bytes held by each project's stores that have not expired (the daily usage snapshot). */
  async bytesByProject(): Promise<{ project_id: string; org_id: string; usage_bytes: number }[]> {
    const rows = await this.db
      .selectFrom('vector_stores as s')
      .leftJoin('vector_store_files as f', 'f.vector_store_id', 's.id')
      .select(['s.project_id', 's.org_id', sql<number>`coalesce(sum(f.usage_bytes), 0)`.as('usage_bytes')])
      .where('s.expired_at', 'is', null)
      .groupBy(['s.project_id', 's.org_id'])
      .execute()
    return rows.map((r) => ({ ...r, usage_bytes: Number(r.usage_bytes) }))
  }
}

/** Files in vector stores (attachments): see VectorStoreFilesTable. */
export class VectorStoreFilesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: VectorStoreFileRow) {
    await this.db.insertInto('vector_store_files').values(row).execute()
  }

  get(storeId: string, fileId: string): Promise<VectorStoreFileRow | undefined> {
    return this.db
      .selectFrom('vector_store_files')
      .selectAll()
      .where('vector_store_id', '=', storeId)
      .where('file_id', '=', fileId)
      .executeTakeFirst()
  }

  byId(id: string): Promise<VectorStoreFileRow | undefined> {
    return this.db.selectFrom('vector_store_files').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /**
   * A store's files in attachment order (or a batch's), optionally of one status. Cursors are
   * file ids, as on the wire; they are turned into the attachment ids the list is ordered by.
   */
  async list(
    storeId: string,
    page: Keyset & { status?: VectorStoreFileState; batchId?: string },
  ): Promise<KeysetPage<VectorStoreFileRow>> {
    let q = this.db.selectFrom('vector_store_files').selectAll().where('vector_store_id', '=', storeId)
    if (page.status) q = q.where('status', '=', page.status)
    if (page.batchId) q = q.where('batch_id', '=', page.batchId)
    const cursor = async (fileId?: string) =>
      fileId === undefined ? undefined : ((await this.get(storeId, fileId))?.id ?? fileId)
    return keysetPage(q, {
      ...page,
      after: await cursor(page.after),
      before: await cursor(page.before),
    })
  }

  /** Moves an attachment on if its status is one of `from`; false when it was not. */
  async transition(
    id: string,
    from: VectorStoreFileState[],
    set: Updateable<VectorStoreFilesTable>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('vector_store_files')
      .set(set)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async update(id: string, set: Updateable<VectorStoreFilesTable>) {
    await this.db.updateTable('vector_store_files').set(set).where('id', '=', id).execute()
  }

  /** Locks the row until the transaction ends (PostgreSQL), and reads it. */
  lock(id: string): Promise<VectorStoreFileRow | undefined> {
    let q = this.db.selectFrom('vector_store_files').selectAll().where('id', '=', id)
    if (dialectOf(this.db) === 'postgres') q = q.forUpdate()
    return q.executeTakeFirst()
  }

  async addUsage(id: string, bytes: number) {
    await this.db
      .updateTable('vector_store_files')
      .set({ usage_bytes: sql`usage_bytes + ${bytes}` })
      .where('id', '=', id)
      .execute()
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('vector_store_files').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** Up to `limit` attachments of a store (deleted stores' files, removed in pages). */
  ofStore(storeId: string, limit: number): Promise<VectorStoreFileRow[]> {
    return this.db
      .selectFrom('vector_store_files')
      .selectAll()
      .where('vector_store_id', '=', storeId)
      .limit(limit)
      .execute()
  }

  /** Files of a batch still in progress become cancelled; returns them. */
  async cancelBatch(batchId: string): Promise<VectorStoreFileRow[]> {
    const rows = await this.db
      .selectFrom('vector_store_files')
      .selectAll()
      .where('batch_id', '=', batchId)
      .where('status', '=', 'in_progress')
      .execute()
    if (!rows.length) return []
    await this.db
      .updateTable('vector_store_files')
      .set({ status: 'cancelled' })
      .where('batch_id', '=', batchId)
      .where('status', '=', 'in_progress')
      .execute()
    return rows
  }

  /** Counts by status and bytes, per store. */
  tallyByStore(storeIds: string[]): Promise<Map<string, FileTally>> {
    return this.tally('vector_store_id', storeIds)
  }

  /** Counts by status and bytes, per batch. */
  tallyByBatch(batchIds: string[]): Promise<Map<string, FileTally>> {
    return this.tally('batch_id', batchIds)
  }

  private async tally(column: 'vector_store_id' | 'batch_id', ids: string[]): Promise<Map<string, FileTally>> {
    const out = new Map<string, FileTally>(ids.map((id) => [id, emptyTally()]))
    if (!ids.length) return out
    const rows = await this.db
      .selectFrom('vector_store_files')
      .select([
        `${column} as key`,
        'status',
        sql<number>`count(*)`.as('n'),
        sql<number>`coalesce(sum(usage_bytes), 0)`.as('bytes'),
      ])
      .where(column, 'in', ids)
      .groupBy([column, 'status'])
      .execute()
    for (const row of rows) {
      const tally = out.get(row.key as string)!
      tally[row.status as VectorStoreFileState] += Number(row.n)
      tally.usage_bytes += Number(row.bytes)
    }
    return out
  }

  /** What a search plans with: chunks of completed files, and whether other files exist. */
  async searchStats(storeIds: string[]): Promise<{ chunks: number; otherFiles: boolean }> {
    const rows = await this.db
      .selectFrom('vector_store_files')
      .select([
        sql<number>`coalesce(sum(case when status = 'completed' then chunk_count else 0 end), 0)`.as('chunks'),
        sql<number>`coalesce(sum(case when status = 'completed' then 0 else 1 end), 0)`.as('others'),
      ])
      .where('vector_store_id', 'in', storeIds)
      .executeTakeFirst()
    return { chunks: Number(rows?.chunks ?? 0), otherFiles: Number(rows?.others ?? 0) > 0 }
  }
}

/** File batches of a store. */
export class VectorStoreFileBatchesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: VectorStoreFileBatchRow) {
    await this.db.insertInto('vector_store_file_batches').values(row).execute()
  }

  get(storeId: string, id: string): Promise<VectorStoreFileBatchRow | undefined> {
    return this.db
      .selectFrom('vector_store_file_batches')
      .selectAll()
      .where('vector_store_id', '=', storeId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  async cancel(storeId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('vector_store_file_batches')
      .set({ status: 'cancelled', cancelled_at: now })
      .where('vector_store_id', '=', storeId)
      .where('id', '=', id)
      .where('status', '=', 'in_progress')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async deleteOfStore(storeId: string) {
    await this.db.deleteFrom('vector_store_file_batches').where('vector_store_id', '=', storeId).execute()
  }
}

/** What was recorded in the usage for a project's vector store bytes on a day. */
export class VectorStoreUsageDaysRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get(projectId: string, day: number): Promise<number | undefined> {
    let q = this.db
      .selectFrom('vector_store_usage_days')
      .select('usage_bytes')
      .where('project_id', '=', projectId)
      .where('day', '=', day)
    if (dialectOf(this.db) === 'postgres') q = q.forUpdate()
    const row = await q.executeTakeFirst()
    return row ? Number(row.usage_bytes) : undefined
  }

  /** Every project recorded for a day, with what was recorded. */
  async ofDay(day: number): Promise<{ project_id: string; usage_bytes: number }[]> {
    const rows = await this.db
      .selectFrom('vector_store_usage_days')
      .select(['project_id', 'usage_bytes'])
      .where('day', '=', day)
      .execute()
    return rows.map((r) => ({ project_id: r.project_id, usage_bytes: Number(r.usage_bytes) }))
  }

  async set(projectId: string, day: number, bytes: number) {
    await this.db
      .insertInto('vector_store_usage_days')
      .values({ project_id: projectId, day, usage_bytes: bytes })
      .onConflict((oc) => oc.columns(['project_id', 'day']).doUpdateSet({ usage_bytes: bytes }))
      .execute()
  }
}
