import { sql, type Kysely, type Selectable } from 'kysely'
import type { Database } from '../tables.js'
import type { ContainerFilesTable, ContainersTable } from '../tables-containers.js'

export type ContainerRow = Selectable<ContainersTable>
export type ContainerFileRow = Selectable<ContainerFilesTable>

export type ContainerListQuery = { after?: string; limit: number; order: 'asc' | 'desc'; name?: string }

/** Containers of a project and their files; every read is by project, so another's is not found. */
export class ContainersRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ContainerRow) {
    await this.db.insertInto('containers').values(row).execute()
  }

  /** Inserts unless the id exists (an auto container made by two calls at once); true if made. */
  async insertIfAbsent(row: ContainerRow): Promise<boolean> {
    const result = await this.db.insertInto('containers').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  }

  get(projectId: string, id: string): Promise<ContainerRow | undefined> {
    return this.db.selectFrom('containers').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
  }

  /** Keyset page on the time-sortable id; limit+1 rows so the caller can tell has_more. */
  list(projectId: string, query: ContainerListQuery): Promise<ContainerRow[]> {
    let q = this.db.selectFrom('containers').selectAll().where('project_id', '=', projectId)
    if (query.name !== undefined) q = q.where('name', '=', query.name)
    if (query.after) q = q.where('id', query.order === 'asc' ? '>' : '<', query.after)
    return q.orderBy('id', query.order).limit(query.limit + 1).execute()
  }

  /**
   * Containers idle past their expiry at `now` that still have files (for the sweep): expired
   * once `last_active_at + minutes * secondsPerMinute` has passed.
   */
  expiredWithFiles(now: number, secondsPerMinute: number, limit: number): Promise<Pick<ContainerRow, 'id' | 'project_id'>[]> {
    return this.db
      .selectFrom('containers')
      .select(['id', 'project_id'])
      .where(sql<boolean>`last_active_at + expires_after_minutes * ${secondsPerMinute} < ${now}`)
      .where((eb) => eb.exists(eb.selectFrom('container_files').select('container_files.id').whereRef('container_files.container_id', '=', 'containers.id')))
      .limit(limit)
      .execute()
  }

  async touch(projectId: string, id: string, at: number) {
    await this.db.updateTable('containers').set({ last_active_at: at }).where('project_id', '=', projectId).where('id', '=', id).execute()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    await this.db.deleteFrom('container_files').where('project_id', '=', projectId).where('container_id', '=', id).execute()
    const result = await this.db.deleteFrom('containers').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  file(projectId: string, containerId: string, id: string): Promise<ContainerFileRow | undefined> {
    return this.db
      .selectFrom('container_files')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('container_id', '=', containerId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  fileAt(containerId: string, path: string): Promise<ContainerFileRow | undefined> {
    return this.db.selectFrom('container_files').selectAll().where('container_id', '=', containerId).where('path', '=', path).executeTakeFirst()
  }

  /** Every file of a container, oldest first (placed in its sandbox before each call). */
  allFiles(projectId: string, containerId: string): Promise<ContainerFileRow[]> {
    return this.db.selectFrom('container_files').selectAll().where('project_id', '=', projectId).where('container_id', '=', containerId).orderBy('id', 'asc').execute()
  }

  listFiles(projectId: string, containerId: string, query: ContainerListQuery): Promise<ContainerFileRow[]> {
    let q = this.db.selectFrom('container_files').selectAll().where('project_id', '=', projectId).where('container_id', '=', containerId)
    if (query.after) q = q.where('id', query.order === 'asc' ? '>' : '<', query.after)
    return q.orderBy('id', query.order).limit(query.limit + 1).execute()
  }

  async insertFile(row: ContainerFileRow) {
    await this.db.insertInto('container_files').values(row).execute()
  }

  /** New bytes for a path that has a file already: its id and creation stay. */
  async replaceFile(id: string, fields: Pick<ContainerFileRow, 'bytes' | 'source' | 'version'>) {
    await this.db.updateTable('container_files').set(fields).where('id', '=', id).execute()
  }

  async deleteFile(projectId: string, containerId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('container_files')
      .where('project_id', '=', projectId)
      .where('container_id', '=', containerId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async deleteFiles(projectId: string, containerId: string) {
    await this.db.deleteFrom('container_files').where('project_id', '=', projectId).where('container_id', '=', containerId).execute()
  }
}
