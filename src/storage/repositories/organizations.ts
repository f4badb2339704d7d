import type { Insertable, Kysely, Selectable } from 'kysely'
import type { Database, OrganizationsTable, ProjectsTable } from '../tables.js'

export type OrganizationRow = Selectable<OrganizationsTable>
export type ProjectRow = Selectable<ProjectsTable>

/** A keyset page: ids after `after`, ascending; repositories return limit + 1 rows (has_more). */
export type PageQuery = { after?: string; limit: number }

export class OrganizationsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<OrganizationRow | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst()
  }

  first(): Promise<OrganizationRow | undefined> {
    return this.db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirst()
  }

  async insert(row: Insertable<OrganizationsTable>) {
    await this.db.insertInto('organizations').values(row).execute()
  }

  async setOwner(id: string, userId: string) {
    await this.db
      .updateTable('organizations')
      .set({ owner_user_id: userId })
      .where('id', '=', id)
      .execute()
  }
}

export class ProjectsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
  }

  list(orgId: string): Promise<ProjectRow[]> {
    return this.db
      .selectFrom('projects')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute()
  }

  /** The organization's first project: the Default project made at bootstrap. */
  first(orgId: string): Promise<ProjectRow | undefined> {
    return this.db
      .selectFrom('projects')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst()
  }

  page(orgId: string, query: PageQuery & { includeArchived: boolean }): Promise<ProjectRow[]> {
    let q = this.db.selectFrom('projects').selectAll().where('org_id', '=', orgId)
    if (!query.includeArchived) q = q.where('status', '=', 'active')
    if (query.after) q = q.where('id', '>', query.after)
    return q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute()
  }

  async insert(row: Insertable<ProjectsTable>) {
    await this.db.insertInto('projects').values(row).execute()
  }

  /** Renames an active project; false if it is missing or archived. */
  async rename(id: string, name: string): Promise<boolean> {
    const result = await this.db
      .updateTable('projects')
      .set({ name })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** active → archived; false if it was archived already (or is missing). */
  async archive(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('projects')
      .set({ status: 'archived', archived_at: at })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async setModelPolicy(id: string, mode: ProjectRow['model_mode'], modelIds: string[] | null) {
    await this.db
      .updateTable('projects')
      .set({ model_mode: mode, model_ids: modelIds ? JSON.stringify(modelIds) : null })
      .where('id', '=', id)
      .execute()
  }

  async setRequestLogBodies(id: string, on: boolean) {
    await this.db.updateTable('projects').set({ request_log_bodies: on ? 1 : 0 }).where('id', '=', id).execute()
  }
}
