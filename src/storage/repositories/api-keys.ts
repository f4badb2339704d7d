import { sql, type Kysely, type Selectable } from 'kysely'
import type { ApiKeysTable, Database, ProjectsTable, UsersTable } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type ApiKeyRow = Selectable<ApiKeysTable>
export type ApiKeyWithProject = ApiKeyRow & { project_status: ProjectsTable['status'] | null }

/** What authentication needs in one query: the key, its project's state, its owner user. */
export type ApiKeyForAuth = ApiKeyWithProject & {
  model_mode: ProjectsTable['model_mode']
  model_ids: string | null
  request_log_bodies: number | null
  /** the owning user: the key's, or for keys made by the system, the organization's owner */
  user_id: string | null
  user_email: string | null
  user_role: UsersTable['role'] | null
}

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

  findForAuth(hash: string): Promise<ApiKeyForAuth | undefined> {
    return this.db
      .selectFrom('api_keys')
      .innerJoin('organizations', 'organizations.id', 'api_keys.org_id')
      .leftJoin('projects', 'projects.id', 'api_keys.project_id')
      .leftJoin('users', (join) =>
        join.on(
          sql`users.id`,
          '=',
          sql`case when api_keys.owner_type = 'service_account' then null else coalesce(api_keys.owner_id, organizations.owner_user_id) end`,
        ),
      )
      .selectAll('api_keys')
      .select([
        'projects.status as project_status',
        'projects.model_mode as model_mode',
        'projects.model_ids as model_ids',
        'projects.request_log_bodies as request_log_bodies',
        'users.id as user_id',
        'users.email as user_email',
        'users.role as user_role',
      ])
      .where('api_keys.secret_hash', '=', hash)
      .executeTakeFirst()
  }

  async insert(row: ApiKeyRow) {
    await this.db.insertInto('api_keys').values(row).execute()
  }

  get(id: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
  }

  list(filter: { projectId?: string | null; kind?: ApiKeyRow['kind'] } = {}): Promise<ApiKeyRow[]> {
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('id')
    if (filter.projectId !== undefined) {
      q =
        filter.projectId === null
          ? q.where('project_id', 'is', null)
          : q.where('project_id', '=', filter.projectId)
    }
    if (filter.kind) q = q.where('kind', '=', filter.kind)
    return q.execute()
  }

  /** A keyset page of one project's keys (projectId null: the organization's admin keys). */
  page(
    orgId: string,
    projectId: string | null,
    query: PageQuery & { order?: 'asc' | 'desc' },
  ): Promise<ApiKeyRow[]> {
    const order = query.order ?? 'asc'
    let q = this.db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId)
    q =
      projectId === null ? q.where('project_id', 'is', null) : q.where('project_id', '=', projectId)
    if (query.after) q = q.where('id', order === 'asc' ? '>' : '<', query.after)
    return q
      .orderBy('id', order)
      .limit(query.limit + 1)
      .execute()
  }

  /** Keys owned by a user or service account, optionally in one project only. */
  byOwner(
    ownerType: ApiKeyRow['owner_type'],
    ownerId: string,
    projectId?: string,
  ): Promise<ApiKeyRow[]> {
    let q = this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
    if (projectId) q = q.where('project_id', '=', projectId)
    return q.orderBy('id').execute()
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async setPermissions(id: string, permissions: string) {
    await this.db.updateTable('api_keys').set({ permissions }).where('id', '=', id).execute()
  }

  async touch(id: string, at: number) {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute()
  }
}
