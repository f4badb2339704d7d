import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** Batches and their per-line ledger (docs/batches.md). */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('batches')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('api_key_id', key)
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('input_file_id', key, (c) => c.notNull())
    .addColumn('completion_window', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('output_file_id', key)
    .addColumn('error_file_id', key)
    .addColumn('errors', 'text')
    .addColumn('metadata', 'text')
    .addColumn('request_total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('request_completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('request_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('job_id', key)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('in_progress_at', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('finalizing_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('expired_at', 'bigint')
    .addColumn('cancelling_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('batches_project')
    .on('batches')
    .columns(['project_id', 'id'])
    .execute()
  // the sweep: unfinished batches past their window, or cancelling
  await db.schema
    .createIndex('batches_status')
    .on('batches')
    .columns(['status', 'expires_at'])
    .execute()

  await db.schema
    .createTable('batch_lines')
    .addColumn('batch_id', key, (c) => c.notNull())
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('custom_id', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addPrimaryKeyConstraint('batch_lines_pk', ['batch_id', 'line_no'])
    .execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('batch_lines').execute()
  await db.schema.dropTable('batches').execute()
}
