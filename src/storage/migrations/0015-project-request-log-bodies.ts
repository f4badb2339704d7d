import type { Kysely } from 'kysely'

/**
 * A project's opt-in to keeping prompt and answer text in the dashboard's request log (the log is
 * in memory; only the setting is stored). 0: off, the default for every project.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('projects').addColumn('request_log_bodies', 'integer', (c) => c.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('projects').dropColumn('request_log_bodies').execute()
}
