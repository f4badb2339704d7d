import type { Kysely, Selectable } from 'kysely'
import type { Database, ServiceAccountsTable } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type ServiceAccountRow = Selectable<ServiceAccountsTable>

export class ServiceAccountsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ServiceAccountRow) {
    await this.db.insertInto('service_accounts').values(row).execute()
  }

  get(projectId: string, id: string): Promise<ServiceAccountRow | undefined> {
    return this.db
      .selectFrom('service_accounts')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  page(projectId: string, query: PageQuery): Promise<ServiceAccountRow[]> {
    let q = this.db.selectFrom('service_accounts').selectAll().where('project_id', '=', projectId)
    if (query.after) q = q.where('id', '>', query.after)
    return q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('service_accounts')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
