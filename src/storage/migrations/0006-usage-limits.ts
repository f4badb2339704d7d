import { sql, type Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** What a usage record may count besides tokens and requests (one column each, default 0). */
const UNIT_COLUMNS = [
  'input_audio_tokens',
  'output_audio_tokens',
  'images',
  'characters',
  'seconds',
  'usage_bytes',
  'sessions',
] as const

const SUMS = ['requests', 'input_tokens', 'output_tokens', 'cached_tokens', ...UNIT_COLUMNS] as const

/**
 * Usage rollups and project rate limits (issue 5).
 *
 * `usage_rollups` holds one row per (operation, bucket width, bucket start, project, key, model,
 * batch, image size, image source) with the sums of its usage records, for each of the three
 * bucket widths the usage API offers. The usage and costs endpoints read only these rows: a page
 * of at most 31 daily buckets reads a few thousand rows whatever the number of records. Absent
 * dimensions are '' rather than null, so that the unique index (and ON CONFLICT) treats them as
 * equal.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  for (const column of UNIT_COLUMNS) {
    await db.schema
      .alterTable('usage_records')
      .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()
  }
  // images only: image.generation | image.edit | image.variation, and the size asked for
  await db.schema.alterTable('usage_records').addColumn('source', 'text').execute()
  await db.schema.alterTable('usage_records').addColumn('size', 'text').execute()

  let rollups = db.schema
    .createTable('usage_rollups')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('bucket_width', 'text', (c) => c.notNull())
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('api_key_id', key, (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('batch', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.notNull())
  for (const column of SUMS) rollups = rollups.addColumn(column, 'bigint', (c) => c.notNull())
  await rollups.execute()
  // the upsert's conflict target, and the index every usage query scans: one operation, one
  // width, a range of bucket starts
  await db.schema
    .createIndex('usage_rollups_key')
    .on('usage_rollups')
    .columns([
      'operation',
      'bucket_width',
      'bucket_start',
      'project_id',
      'api_key_id',
      'model',
      'batch',
      'source',
      'size',
    ])
    .unique()
    .execute()

  // usage recorded before this migration joins the rollups
  for (const [width, seconds] of [
    ['1m', 60],
    ['1h', 3600],
    ['1d', 86400],
  ] as const) {
    const sums = sql.join(SUMS.map((c) => sql`sum(${sql.ref(c)})`))
    await sql`
      insert into usage_rollups (operation, bucket_width, bucket_start, project_id, api_key_id,
        model, batch, source, size, ${sql.join(SUMS.map((c) => sql.ref(c)))})
      select operation, ${sql.lit(width)}, (created_at / ${sql.lit(seconds)}) * ${sql.lit(seconds)},
        project_id, coalesce(api_key_id, ''), model, batch, coalesce(source, ''),
        coalesce(size, ''), ${sums}
      from usage_records
      group by operation, (created_at / ${sql.lit(seconds)}) * ${sql.lit(seconds)}, project_id,
        coalesce(api_key_id, ''), model, batch, coalesce(source, ''), coalesce(size, '')
    `.execute(db)
  }

  // a project's own limits for a model; a null column takes the configured default
  await db.schema
    .createTable('project_rate_limits')
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('max_requests_per_1_minute', 'bigint')
    .addColumn('max_tokens_per_1_minute', 'bigint')
    .addColumn('max_images_per_1_minute', 'bigint')
    .addColumn('max_audio_megabytes_per_1_minute', 'bigint')
    .addColumn('max_requests_per_1_day', 'bigint')
    .addColumn('batch_1_day_max_input_tokens', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_rate_limits_pk', ['project_id', 'model'])
    .execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('project_rate_limits').execute()
  await db.schema.dropTable('usage_rollups').execute()
  for (const column of ['size', 'source', ...UNIT_COLUMNS]) {
    await db.schema.alterTable('usage_records').dropColumn(column).execute()
  }
}
