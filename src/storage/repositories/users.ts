import type { Kysely, Selectable } from 'kysely'
import type { Database, UsersTable } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type UserRow = Selectable<UsersTable>

/** Members of an organization; emails are stored lower-cased. */
export class UsersRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: UserRow) {
    await this.db.insertInto('users').values(row).execute()
  }

  get(orgId: string, id: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  byEmail(orgId: string, email: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('email', '=', email)
      .executeTakeFirst()
  }

  page(orgId: string, query: PageQuery & { emails?: string[] }): Promise<UserRow[]> {
    let q = this.db.selectFrom('users').selectAll().where('org_id', '=', orgId)
    if (query.emails) q = q.where('email', 'in', query.emails.length ? query.emails : [''])
    if (query.after) q = q.where('id', '>', query.after)
    return q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute()
  }

  async setRole(orgId: string, id: string, role: UserRow['role']) {
    await this.db
      .updateTable('users')
      .set({ role })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute()
  }

  async countOwners(orgId: string): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', orgId)
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  /** The longest-standing owner other than `exceptId`. */
  anotherOwner(orgId: string, exceptId: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('role', '=', 'owner')
      .where('id', '!=', exceptId)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst()
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('users')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
