import fs from 'node:fs'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { PostgresDialect, SqliteDialect, type Dialect as KyselyDialect } from 'kysely'

/** The ONLY module that branches on sqlite | postgres. */
export type Dialect = 'sqlite' | 'postgres'

export type StorageConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; poolSize?: number; schema?: string }

export function storageConfigFor(databaseUrl: string | undefined, dataDir: string): StorageConfig {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) return { kind: 'postgres', url: databaseUrl }
  if (databaseUrl && databaseUrl.startsWith('sqlite:')) return { kind: 'sqlite', path: databaseUrl.slice(7) }
  return { kind: 'sqlite', path: path.join(dataDir, 'plinth.db') }
}

export function createKyselyDialect(config: StorageConfig): { dialect: KyselyDialect; close?: () => Promise<void> } {
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') fs.mkdirSync(path.dirname(config.path), { recursive: true })
    const database = new SQLite(config.path)
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = NORMAL')
    database.pragma('busy_timeout = 5000')
    database.pragma('foreign_keys = ON')
    // @NOTE bigint columns come back as JS numbers: unix seconds and token counts fit in 2^53.
    return { dialect: new SqliteDialect({ database }) }
  }
  // int8 (bigint) as JS number, for the same reason.
  pg.types.setTypeParser(20, (v) => Number(v))
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
  })
  return { dialect: new PostgresDialect({ pool }) }
}

/** Creates the schema a test suite or deployment asks for (PostgreSQL only). */
export async function ensureSchema(config: StorageConfig) {
  if (config.kind !== 'postgres' || !config.schema) return
  const client = new pg.Client({ connectionString: config.url })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema.replace(/"/g, '')}"`)
  } finally {
    await client.end()
  }
}
