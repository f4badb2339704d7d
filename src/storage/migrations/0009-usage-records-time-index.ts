import type { Kysely } from 'kysely'

/**
 * usage_records_time (created_at alone) served no query: the usage and costs APIs read the
 * rollups, and the one reader of raw records filters by project first (usage_records_project_time).
 * Each index is another B-tree written for every inference request.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('usage_records_time').ifExists().execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('usage_records_time').ifNotExists().on('usage_records').columns(['created_at']).execute()
}
