import type { Kysely, Selectable } from 'kysely'
import type { Database, FilesTable } from '../tables.js'

export type FileRow = Selectable<FilesTable>

export type FileListQuery = {
  purpose?: string
  after?: string
  limit: number
  order: 'asc' | 'desc'
}

/**
 * Files of a project. Reads see only `ready` rows that have not expired at `now`: a pending row
 * has no committed blob yet, and an expired file is gone for clients before the sweep removes it.
 */
export class FilesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: FileRow) {
    await this.db.insertInto('files').values(row).execute()
  }

  /** pending → ready, once the blob is committed; false if the row is gone (swept). */
  async markReady(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('files')
      .set({ state: 'ready' })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** ready → pending: the file disappears for clients before its bytes are deleted. */
  async hide(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('files')
      .set({ state: 'pending' })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('state', '=', 'ready')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  get(projectId: string, id: string, now: number): Promise<FileRow | undefined> {
    return this.visible(projectId, now).where('id', '=', id).executeTakeFirst()
  }

  /** Keyset page on the time-sortable id; returns limit+1 rows so the caller can tell has_more. */
  list(projectId: string, query: FileListQuery, now: number): Promise<FileRow[]> {
    let q = this.visible(projectId, now)
    if (query.purpose !== undefined) q = q.where('purpose', '=', query.purpose)
    if (query.after) q = q.where('id', query.order === 'asc' ? '>' : '<', query.after)
    return q
      .orderBy('id', query.order)
      .limit(query.limit + 1)
      .execute()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('files')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** For the sweep, across projects: ready files whose expiry has passed. */
  expired(now: number, limit: number): Promise<FileRow[]> {
    return this.db
      .selectFrom('files')
      .selectAll()
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute()
  }

  /** For the sweep, across projects: pending rows older than `before` (their writer died). */
  stalePending(before: number, limit: number): Promise<FileRow[]> {
    return this.db
      .selectFrom('files')
      .selectAll()
      .where('state', '=', 'pending')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute()
  }

  private visible(projectId: string, now: number) {
    return this.db
      .selectFrom('files')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('state', '=', 'ready')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
  }
}
