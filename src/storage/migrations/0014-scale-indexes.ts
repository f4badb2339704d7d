import type { Kysely } from 'kysely'

/**
 * Indexes for list filters that otherwise read a project's whole table in id order, filtering as
 * they go: a filter that matches one row in a hundred reads a hundred rows for each row it returns
 * (bench/scale.ts, test/storage/query-plans.test.ts). Lists order by id, so id comes last.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // GET /v1/chat/completions?model=...
  await db.schema.createIndex('chat_completions_project_model').ifNotExists().on('chat_completions').columns(['project_id', 'model', 'id']).execute()
  // GET /v1/files?purpose=...
  await db.schema.createIndex('files_project_purpose').ifNotExists().on('files').columns(['project_id', 'purpose', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('chat_completions_project_model').ifExists().execute()
  await db.schema.dropIndex('files_project_purpose').ifExists().execute()
}
