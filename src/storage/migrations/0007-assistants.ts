import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** Assistants, threads and messages (docs/assistants.md); runs add their own tables. */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('assistants')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('instructions', 'text')
    .addColumn('tools', 'text', (c) => c.notNull())
    .addColumn('tool_resources', 'text', (c) => c.notNull())
    .addColumn('file_attached_at', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    // double, not real: PostgreSQL's real is 4 bytes and would read 0.7 back as 0.699999988
    .addColumn('temperature', 'double precision')
    .addColumn('top_p', 'double precision')
    .addColumn('response_format', 'text')
    .addColumn('reasoning_effort', 'text')
    .execute()
  await db.schema
    .createIndex('assistants_project')
    .on('assistants')
    .columns(['project_id', 'id'])
    .execute()

  await db.schema
    .createTable('threads')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('tool_resources', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('active_run_id', key)
    .execute()

  await db.schema
    .createTable('messages')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('thread_id', key, (c) => c.notNull().references('threads.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('incomplete_details', 'text')
    .addColumn('completed_at', 'bigint')
    .addColumn('incomplete_at', 'bigint')
    .addColumn('assistant_id', key)
    .addColumn('run_id', key)
    .execute()
  // the list pages a thread's messages by id; the run_id filter narrows the same walk
  await db.schema
    .createIndex('messages_thread')
    .on('messages')
    .columns(['thread_id', 'id'])
    .execute()
  await db.schema
    .createIndex('messages_thread_run')
    .on('messages')
    .columns(['thread_id', 'run_id', 'id'])
    .execute()
}
