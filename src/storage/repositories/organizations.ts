import type { Kysely, Selectable } from 'kysely'
import type { Database, OrganizationsTable, ProjectsTable } from '../tables.js'

export type OrganizationRow = Selectable<OrganizationsTable>
export type ProjectRow = Selectable<ProjectsTable>

export class OrganizationsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  first(): Promise<OrganizationRow | undefined> {
    return this.db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirst()
  }

  async insert(row: OrganizationRow) {
    await this.db.insertInto('organizations').values(row).execute()
  }
}

export class ProjectsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
  }

  list(orgId: string): Promise<ProjectRow[]> {
    return this.db.selectFrom('projects').selectAll().where('org_id', '=', orgId).orderBy('id').execute()
  }

  async insert(row: ProjectRow) {
    await this.db.insertInto('projects').values(row).execute()
  }
}
