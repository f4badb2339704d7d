import type { Kysely, Selectable } from 'kysely'
import type { ApiKeysTable, Database, ProjectsTable } from '../tables.js'

export type ApiKeyRow = Selectable<ApiKeysTable>
export type ApiKeyWithProject = ApiKeyRow & { project_status: ProjectsTable['status'] | null }

export class ApiKeysRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** The key whose secret hashes to `hash`, with its project's status (archived keys stop working). */
  findByHash(hash: string): Promise<ApiKeyWithProject | undefined> {
    return this.db
      .selectFrom('api_keys')
      .leftJoin('projects', 'projects.id', 'api_keys.project_id')
      .selectAll('api_keys')
      .select('projects.status as project_status')
      .where('api_keys.secret_hash', '=', hash)
      .executeTakeFirst()
  }

  async insert(row: ApiKeyRow) {
    await this.db.insertInto('api_keys').values(row).execute()
  }

  list(filter: { projectId?: string | null; kind?: ApiKeyRow['kind'] } = {}): Promise<ApiKeyRow[]> {
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('id')
    if (filter.projectId !== undefined) {
      q = filter.projectId === null ? q.where('project_id', 'is', null) : q.where('project_id', '=', filter.projectId)
    }
    if (filter.kind) q = q.where('kind', '=', filter.kind)
    return q.execute()
  }

  async touch(id: string, at: number) {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute()
  }
}
