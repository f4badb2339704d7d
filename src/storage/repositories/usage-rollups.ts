import { sql, type CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../tables.js'
import type { RollupWidth, UsageRollupsTable } from '../tables-usage.js'
import { CompiledInserts } from './compiled-inserts.js'

export type RollupRow = UsageRollupsTable

/** The summed columns of a rollup, in one place for the upsert and the queries. */
export const ROLLUP_SUMS = [
  'requests',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
  'images',
  'characters',
  'seconds',
  'usage_bytes',
  'sessions',
] as const satisfies readonly (keyof UsageRollupsTable)[]

export type RollupSum = (typeof ROLLUP_SUMS)[number]
export type RollupSums = Record<RollupSum, number>

const KEY = [
  'operation',
  'bucket_width',
  'bucket_start',
  'project_id',
  'api_key_id',
  'model',
  'batch',
  'source',
  'size',
] as const

export type RollupDimension = 'operation' | 'project_id' | 'api_key_id' | 'model' | 'batch' | 'source' | 'size'

export type RollupQuery = {
  operations: readonly string[]
  width: RollupWidth
  /** bucket starts from (inclusive) ... to (exclusive), unix seconds */
  from: number
  to: number
  projectIds?: readonly string[]
  apiKeyIds?: readonly string[]
  models?: readonly string[]
  batch?: boolean
  sources?: readonly string[]
  sizes?: readonly string[]
  groupBy: readonly RollupDimension[]
  /** the sums the caller shows (default: all); the others come back as 0, unread */
  sums?: readonly RollupSum[]
}

export type RollupResult = { bucket_start: number } & Partial<Record<RollupDimension, string | number>> & RollupSums

const UPSERT = new CompiledInserts<RollupRow>([...KEY, ...ROLLUP_SUMS], (db, rows) =>
  db
    .insertInto('usage_rollups')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns([...KEY])
        .doUpdateSet(Object.fromEntries(ROLLUP_SUMS.map((c) => [c, sql`usage_rollups.${sql.ref(c)} + excluded.${sql.ref(c)}`]))),
    ),
)

export class UsageRollupsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds the rows' sums to the stored rollups (insert or add). Rows must be unique by key; they are
   * written in key order, so that concurrent writers on PostgreSQL lock rows in the same order and
   * cannot deadlock.
   */
  async add(rows: RollupRow[]) {
    await UPSERT.execute(this.db, [...rows].sort(compareKeys))
  }

  /** add's statements, to run with others in one Storage.runBatch. */
  addQueries(rows: readonly RollupRow[]): CompiledQuery[] {
    return UPSERT.compile(this.db, [...rows].sort(compareKeys))
  }

  /** Sums per bucket start and per group, in bucket order. */
  query(q: RollupQuery): Promise<RollupResult[]> {
    let query = this.db
      .selectFrom('usage_rollups')
      .select('bucket_start')
      .where('bucket_width', '=', q.width)
      .where('bucket_start', '>=', q.from)
      .where('bucket_start', '<', q.to)
    query =
      q.operations.length === 1
        ? query.where('operation', '=', q.operations[0])
        : query.where('operation', 'in', q.operations)
    if (q.projectIds) query = query.where('project_id', 'in', q.projectIds)
    if (q.apiKeyIds) query = query.where('api_key_id', 'in', q.apiKeyIds)
    if (q.models) query = query.where('model', 'in', q.models)
    if (q.batch !== undefined) query = query.where('batch', '=', q.batch ? 1 : 0)
    if (q.sources) query = query.where('source', 'in', q.sources)
    if (q.sizes) query = query.where('size', 'in', q.sizes)
    // each sum reads its column from the row: a page of completions shows 6 of the 11
    const summed = new Set<string>(q.sums ?? ROLLUP_SUMS)
    const sums = ROLLUP_SUMS.map((c) => (summed.has(c) ? sql<number>`sum(${sql.ref(c)})` : sql<number>`0`).as(c))
    return query
      .select(q.groupBy)
      .select(sums)
      .groupBy(['bucket_start', ...q.groupBy])
      .orderBy('bucket_start')
      .execute() as Promise<RollupResult[]>
  }
}

function compareKeys(a: RollupRow, b: RollupRow): number {
  for (const k of KEY) {
    const x = a[k]
    const y = b[k]
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}
