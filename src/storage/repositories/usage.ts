import type { Insertable, Kysely } from 'kysely'
import type { Database, UsageRecordsTable } from '../tables.js'

export type UsageRecordInsert = Insertable<UsageRecordsTable>

export class UsageRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: UsageRecordInsert) {
    await this.db.insertInto('usage_records').values(row).execute()
  }

  /** Many rows in one statement (chunked to stay under SQLite's bound-parameter limit). */
  async insertMany(rows: UsageRecordInsert[]) {
    for (let i = 0; i < rows.length; i += 500) {
      await this.db.insertInto('usage_records').values(rows.slice(i, i + 500)).execute()
    }
  }

  listForProject(projectId: string, since = 0) {
    return this.db
      .selectFrom('usage_records')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('created_at', '>=', since)
      .orderBy('id')
      .execute()
  }
}
