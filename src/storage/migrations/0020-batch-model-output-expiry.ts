import type { Kysely } from 'kysely'

/**
 * What newer OpenAI batches carry: the `model` of their lines (known once the input is
 * validated), `output_expires_after` (the lifetime of their output and error files, seconds) and
 * the tokens of the lines run so far (`usage`), added with `request_counts`.
 */
const TOKENS = ['usage_input_tokens', 'usage_cached_tokens', 'usage_output_tokens']

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('batches').addColumn('model', 'text').execute()
  await db.schema.alterTable('batches').addColumn('output_expires_after', 'integer').execute()
  for (const column of TOKENS) {
    await db.schema.alterTable('batches').addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0)).execute()
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of TOKENS) await db.schema.alterTable('batches').dropColumn(column).execute()
  await db.schema.alterTable('batches').dropColumn('output_expires_after').execute()
  await db.schema.alterTable('batches').dropColumn('model').execute()
}
