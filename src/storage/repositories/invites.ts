import type { Kysely, Selectable } from 'kysely'
import type { Database, InvitesTable } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type InviteRow = Selectable<InvitesTable>

export class InvitesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: InviteRow) {
    await this.db.insertInto('invites').values(row).execute()
  }

  get(orgId: string, id: string): Promise<InviteRow | undefined> {
    return this.db
      .selectFrom('invites')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  byTokenHash(hash: string): Promise<InviteRow | undefined> {
    return this.db
      .selectFrom('invites')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst()
  }

  /** A pending invite for this email that has not expired at `now`. */
  pendingFor(orgId: string, email: string, now: number): Promise<InviteRow | undefined> {
    return this.db
      .selectFrom('invites')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('email', '=', email)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst()
  }

  page(orgId: string, query: PageQuery): Promise<InviteRow[]> {
    let q = this.db.selectFrom('invites').selectAll().where('org_id', '=', orgId)
    if (query.after) q = q.where('id', '>', query.after)
    return q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute()
  }

  /** pending → accepted, once: false if another acceptance (or a delete) came first. */
  async accept(id: string, userId: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invites')
      .set({ status: 'accepted', accepted_at: at, user_id: userId })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('invites')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
