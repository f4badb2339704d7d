import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * The Containers API (docs/code-interpreter.md, "Containers"): a container is a code interpreter
 * session with files of its own. Expiry is not a stored status: a container is expired once
 * `last_active_at + expires_after_minutes` has passed, so no timer has to write it.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)
  await db.schema
    .createTable('containers')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_active_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_after_minutes', 'integer', (c) => c.notNull())
    .addColumn('memory_limit', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('containers_project').on('containers').columns(['project_id', 'id']).execute()

  await db.schema
    .createTable('container_files')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('container_id', key, (c) => c.notNull().references('containers.id').onDelete('cascade'))
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // a new token at each write: a sandbox holding this version is not sent the bytes again
    .addColumn('version', 'text', (c) => c.notNull())
    .execute()
  // one file per path: a write to the same path replaces the bytes, the id stays
  await db.schema.createIndex('container_files_path').unique().on('container_files').columns(['container_id', 'path']).execute()
  await db.schema.createIndex('container_files_list').on('container_files').columns(['container_id', 'id']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('container_files').execute()
  await db.schema.dropTable('containers').execute()
}
