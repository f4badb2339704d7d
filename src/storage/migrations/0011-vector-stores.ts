import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * Vector stores, their files and file batches (docs/vector-stores.md). The chunks and their
 * indexes are the vector index's own (storage/vector-index/): on PostgreSQL they need the
 * pgvector extension, which may be missing, and Plinth must still start then.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('vector_stores')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('metadata', 'text')
    .addColumn('expires_after_days', 'integer')
    .addColumn('expires_at', 'bigint')
    .addColumn('last_active_at', 'bigint', (c) => c.notNull())
    .addColumn('expired_at', 'bigint')
    .addColumn('embedding_model', 'text', (c) => c.notNull())
    .addColumn('chunking_strategy', 'text')
    .execute()
  await db.schema
    .createIndex('vector_stores_project')
    .on('vector_stores')
    .columns(['project_id', 'id'])
    .execute()
  // the sweep: stores whose expiry passed
  await db.schema
    .createIndex('vector_stores_expiry')
    .on('vector_stores')
    .columns(['expired_at', 'expires_at'])
    .execute()

  await db.schema
    .createTable('vector_store_files')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('vector_store_id', key, (c) => c.notNull())
    .addColumn('file_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('usage_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('chunking', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('batch_id', key)
    .addColumn('chunk_count', 'integer')
    .addUniqueConstraint('vector_store_files_store_file', ['vector_store_id', 'file_id'])
    .execute()
  // lists of a store's files in attachment order, with or without a status filter; the counts
  await db.schema
    .createIndex('vector_store_files_store')
    .on('vector_store_files')
    .columns(['vector_store_id', 'id'])
    .execute()
  await db.schema
    .createIndex('vector_store_files_status')
    .on('vector_store_files')
    .columns(['vector_store_id', 'status'])
    .execute()
  await db.schema
    .createIndex('vector_store_files_batch')
    .on('vector_store_files')
    .columns(['batch_id', 'id'])
    .execute()

  await db.schema
    .createTable('vector_store_file_batches')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('vector_store_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'bigint')
    .execute()

  await db.schema
    .createTable('vector_store_usage_days')
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('day', 'bigint', (c) => c.notNull())
    .addColumn('usage_bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('vector_store_usage_days_pk', ['project_id', 'day'])
    .execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('vector_store_usage_days').execute()
  await db.schema.dropTable('vector_store_file_batches').execute()
  await db.schema.dropTable('vector_store_files').execute()
  await db.schema.dropTable('vector_stores').execute()
}
