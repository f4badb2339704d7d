import { sql, type Kysely } from 'kysely'

/**
 * A run's prompt is built from the thread's newest messages backwards, until the context is full
 * (domain/assistants/run-prompt.ts): each message keeps its token count, counted the first time a
 * prompt needs it, so a long thread is not re-counted on every turn. The partial index finds the
 * few messages with attachments (a run's code_interpreter files) without reading the thread.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('token_count', 'integer').execute()
  await db.schema
    .createIndex('messages_thread_attachments')
    .ifNotExists()
    .on('messages')
    .columns(['thread_id', 'id'])
    .where(sql.ref('attachments'), '<>', sql.lit('[]'))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('messages_thread_attachments').ifExists().execute()
  await db.schema.alterTable('messages').dropColumn('token_count').execute()
}
