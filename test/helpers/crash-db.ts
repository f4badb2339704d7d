import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { pgQuery, pgTestUrl, withPgSchema } from './pg.js'

/**
 * The database of a crash test's server processes, on SQLite (a file in the data directory) or
 * PostgreSQL (a fresh schema, when TEST_PG_URL is set), and a read-only look into it from the
 * test: what is committed while a server runs, and what a kill left.
 */
export type CrashDb = {
  name: 'sqlite' | 'postgres'
  /** the server's environment for this database */
  env: Record<string, string>
  /** rows of a query, numbers as numbers (PostgreSQL's bigint and numeric come as text) */
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

export type CrashDbCase = { name: 'sqlite' | 'postgres'; open(dataDir: string): Promise<CrashDb> }

/** SQLite always, PostgreSQL when configured. */
export function crashDbCases(): CrashDbCase[] {
  const cases: CrashDbCase[] = [{ name: 'sqlite', open: async (dataDir) => sqliteDb(dataDir) }]
  const url = pgTestUrl()
  if (url) cases.push({ name: 'postgres', open: () => postgresDb(url) })
  return cases
}

function sqliteDb(dataDir: string): CrashDb {
  const file = path.join(dataDir, 'plinth.db')
  let db: Database.Database | undefined
  return {
    name: 'sqlite',
    env: {},
    async rows(sql, params = []) {
      // opened at first use: the server creates the file
      db ??= new Database(file, { readonly: true, fileMustExist: true })
      return db.prepare(sql).all(...params) as Record<string, unknown>[]
    },
    async close() {
      db?.close()
    },
  }
}

async function postgresDb(url: string): Promise<CrashDb> {
  const { schema, drop } = withPgSchema('crash')
  // created here: the server, reaching it through search_path, finds it as its current schema
  await pgQuery(url, `CREATE SCHEMA ${schema}`)
  // public stays on the path: the pgvector extension's type lives there
  const serverUrl = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  return {
    name: 'postgres',
    env: { PLINTH_DATABASE_URL: serverUrl },
    async rows(sql, params = []) {
      // `?` placeholders, as SQLite's, become $1, $2, ...
      let n = 0
      const text = sql.replace(/\?/g, () => `$${++n}`)
      const result = await client.query(text, params)
      return result.rows.map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v]),
        ),
      )
    },
    async close() {
      await client.end()
      await drop()
    },
  }
}

/**
 * The usage API's completions totals since `startTime` (day buckets, summed), with an admin key:
 * what an organization is billed, read from the rollups.
 */
export async function usageTotals(url: string, adminKey: string, startTime: number, batch: boolean) {
  const query = new URLSearchParams({ start_time: String(startTime), bucket_width: '1d', batch: String(batch) })
  const response = await fetch(`${url}/v1/organization/usage/completions?${query}`, {
    headers: { authorization: `Bearer ${adminKey}` },
  })
  if (response.status !== 200) throw new Error(`usage API: ${response.status} ${await response.text()}`)
  const page = (await response.json()) as { data: { results: Record<string, number>[] }[] }
  const sum = { requests: 0, input_tokens: 0, output_tokens: 0 }
  for (const bucket of page.data) {
    for (const r of bucket.results) {
      sum.requests += r.num_model_requests
      sum.input_tokens += r.input_tokens
      sum.output_tokens += r.output_tokens
    }
  }
  return sum
}
