import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { describePg, pgQuery, withPgSchema, type PgSchema } from '../helpers/pg.js'

// PostgreSQL only: what the per-suite schema promises. Every table, Kysely's migration tables
// included, lands in the configured schema, and two schemas in one database never mix.

const TABLES = [
  'api_keys',
  'assistants',
  'audit_logs',
  'batch_lines',
  'batches',
  'certificates',
  'chat_completions',
  'container_files',
  'containers',
  'conversation_items',
  'conversations',
  'eval_run_output_items',
  'eval_runs',
  'evals',
  'files',
  'fine_tuning_checkpoints',
  'fine_tuning_events',
  'fine_tuning_jobs',
  'fine_tuning_permissions',
  'invites',
  'jobs',
  'kysely_migration',
  'kysely_migration_lock',
  'messages',
  'organizations',
  'project_certificates',
  'project_rate_limits',
  'project_users',
  'projects',
  'realtime_client_secrets',
  'response_items',
  'responses',
  'run_steps',
  'runs',
  'service_accounts',
  'spend_alerts',
  'spend_limits',
  'threads',
  'upload_parts',
  'uploads',
  'usage_records',
  'usage_rollups',
  'users',
  'vector_store_file_batches',
  'vector_store_files',
  'vector_store_usage_days',
  'vector_stores',
]

describePg('postgres schemas', () => {
  let a: PgSchema
  let b: PgSchema
  let sa: Storage
  let sb: Storage

  beforeAll(async () => {
    a = withPgSchema('schema_a')
    b = withPgSchema('schema_b')
    // Opened one after the other in the same database: the second migration run must not mistake
    // the first schema's kysely_migration table for its own.
    sa = await openStorage(a.config)
    sb = await openStorage(b.config)
  })
  afterAll(async () => {
    await sa?.close()
    await sb?.close()
    await a?.drop()
    await b?.drop()
  })

  const tablesIn = async (schema: string) =>
    (
      await pgQuery<{ table_name: string }>(
        a.url,
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [schema],
      )
    ).map((r) => r.table_name)

  it('migrations create every table in the configured schema', async () => {
    expect(await tablesIn(a.schema)).toEqual(TABLES)
    expect(await tablesIn(b.schema)).toEqual(TABLES)
    const publicTables = await tablesIn('public')
    for (const t of TABLES) expect(publicTables).not.toContain(t)
  })

  it('each schema sees only its own rows', async () => {
    await createRepos(sa.db).organizations.insert({ id: 'org-a', name: 'A', created_at: 1 })
    await createRepos(sb.db).organizations.insert({ id: 'org-b', name: 'B', created_at: 2 })
    expect(
      (await sa.db.selectFrom('organizations').select('id').execute()).map((r) => r.id),
    ).toEqual(['org-a'])
    expect(
      (await sb.db.selectFrom('organizations').select('id').execute()).map((r) => r.id),
    ).toEqual(['org-b'])
  })

  it('id columns compare bytewise whatever the database collation', async () => {
    const { rows } = await sql<{ collation_name: string | null }>`
      select collation_name from information_schema.columns
      where table_schema = ${a.schema} and table_name = 'chat_completions' and column_name = 'id'`.execute(
      sa.db,
    )
    expect(rows[0].collation_name).toBe('C')
  })

  it('an uncommitted transaction is invisible to other connections', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let inserted!: () => void
    const didInsert = new Promise<void>((resolve) => (inserted = resolve))
    const tx = sa.transaction(async (t) => {
      await createRepos(t.db).organizations.insert({ id: 'org-pending', name: 'P', created_at: 3 })
      inserted()
      await held
    })
    await didInsert
    expect(
      await sa.db
        .selectFrom('organizations')
        .select('id')
        .where('id', '=', 'org-pending')
        .execute(),
    ).toEqual([])
    release()
    await tx
    expect(
      await sa.db
        .selectFrom('organizations')
        .select('id')
        .where('id', '=', 'org-pending')
        .execute(),
    ).toHaveLength(1)
  })

  it('refuses a schema name that would need quoting', async () => {
    await expect(openStorage({ ...a.config, schema: 'bad-name"; drop' })).rejects.toThrow(
      /invalid PostgreSQL schema name/,
    )
  })

  it('drop() removes the schema', async () => {
    const c = withPgSchema('schema_c')
    const sc = await openStorage(c.config)
    await sc.close()
    expect(await tablesIn(c.schema)).toEqual(TABLES)
    await c.drop()
    expect(
      await pgQuery(a.url, 'select 1 from pg_namespace where nspname = $1', [c.schema]),
    ).toEqual([])
  })
})
