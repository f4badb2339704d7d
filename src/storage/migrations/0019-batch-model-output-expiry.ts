import type { Kysely } from 'kysely'

/**
 * What newer OpenAI batches carry: the `model` of their lines (known once the input is
 * validated) and `output_expires_after` (the lifetime of their output and error files, seconds).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('batches').addColumn('model', 'text').execute()
  await db.schema.alterTable('batches').addColumn('output_expires_after', 'integer').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('batches').dropColumn('output_expires_after').execute()
  await db.schema.alterTable('batches').dropColumn('model').execute()
}
