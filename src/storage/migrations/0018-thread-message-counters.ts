import { sql, type Kysely } from 'kysely'
import { messageCounterTriggers } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * Two counters per thread, kept by triggers on messages (dialect.ts, messageCounterTriggers):
 * messages inserted, and messages deleted or rewritten once finished. A run's prompt cache holds
 * a long thread's converted messages and checks them against these counters in the statement
 * that reads the thread's newest messages (domain/assistants/prompt-cache.ts).
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  for (const column of ['messages_added', 'messages_changed']) {
    await db.schema.alterTable('threads').addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0)).execute()
  }
  for (const statement of messageCounterTriggers(dialect).up) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  for (const statement of messageCounterTriggers(dialect).down) await sql.raw(statement).execute(db)
  await db.schema.alterTable('threads').dropColumn('messages_changed').execute()
  await db.schema.alterTable('threads').dropColumn('messages_added').execute()
}
