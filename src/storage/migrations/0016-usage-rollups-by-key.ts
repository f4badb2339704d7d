import type { Kysely } from 'kysely'

/**
 * The usage pages filtered by API key (`api_key_ids`): the key index (operation, width, bucket
 * start, ...) reads every key's rows of the range and keeps the key's; this one reads the key's
 * only. What is left is the key's own rows in the range: the busier the key, the more it reads.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('usage_rollups_by_key')
    .ifNotExists()
    .on('usage_rollups')
    .columns(['operation', 'bucket_width', 'api_key_id', 'bucket_start'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('usage_rollups_by_key').ifExists().execute()
}
