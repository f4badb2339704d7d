import type { Kysely } from 'kysely'

/**
 * Create-and-run's `tool_resources` are the run's own: they take the place of the assistant's
 * for that run only (domain/assistants/run-tools.ts), so the run keeps them. Null: the
 * assistant's, as for every run made before.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('tool_resources', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('tool_resources').execute()
}
