import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * The background job queue (src/jobs). `run_at` and `lease_expires_at` hold unix MILLISECONDS,
 * unlike every other timestamp in the schema (unix seconds): leases of a few seconds and retry
 * backoffs of a few hundred milliseconds need sub-second precision. `created_at` and `updated_at`
 * stay in seconds like the rest.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  await db.schema
    .createTable('jobs')
    .addColumn('id', keyColumnType(dialect), (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // null until the first claim, which fills in the kind's default from the job catalog
    .addColumn('max_attempts', 'integer')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('progress', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  // claiming: status = 'queued' and run_at <= now, oldest first
  await db.schema.createIndex('jobs_claim').on('jobs').columns(['status', 'run_at']).execute()
  // reclaiming: status in ('running', 'cancelling') and lease_expires_at < now
  await db.schema
    .createIndex('jobs_lease')
    .on('jobs')
    .columns(['status', 'lease_expires_at'])
    .execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('jobs').execute()
}
