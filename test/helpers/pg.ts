import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { describe } from 'vitest'
import type { StorageConfig } from '../../src/storage/dialect.js'

/** PostgreSQL tests run only when this is set; `.ci/run` sets it to a local Debian cluster. */
export function pgTestUrl(): string | undefined {
  return process.env.TEST_PG_URL || undefined
}

/** Why PostgreSQL suites did not run, in their titles and on stderr. */
export const PG_SKIPPED = 'skipped: TEST_PG_URL not set; CI sets it'

/**
 * A suite that needs PostgreSQL: runs when TEST_PG_URL is set, otherwise shows up as a skipped
 * suite whose title says why, and says it on stderr too (the default reporter shows only counts).
 */
export function describePg(title: string, fn: () => void) {
  if (pgTestUrl()) return describe(title, fn)
  noticePgSkipped(title)
  describe.skip(`${title} (${PG_SKIPPED})`, fn)
}

/** The skipped stand-in for the PostgreSQL case of a `describe.each(storageCases())`. */
export function skippedPgCase(title: string) {
  if (pgTestUrl()) return
  noticePgSkipped(title)
  describe.skip(`${title} (${PG_SKIPPED})`, () => {})
}

function noticePgSkipped(title: string) {
  console.warn(`${title} (${PG_SKIPPED})`)
}

export type PgSchema = {
  schema: string
  url: string
  config: Extract<StorageConfig, { kind: 'postgres' }>
  /** Drops the schema and everything in it. */
  drop(): Promise<void>
}

/**
 * A fresh, uniquely named schema for one suite: suites run in parallel against one database and
 * never see each other's tables. The schema is created by openStorage (migrations put every table
 * there); `drop()` removes it.
 */
export function withPgSchema(label: string, url = requirePgUrl()): PgSchema {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24)
  const schema = `t_${slug}_${process.pid}_${randomBytes(4).toString('hex')}`
  return {
    schema,
    url,
    config: { kind: 'postgres', url, schema, poolSize: 4 },
    drop: () => pgQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined),
  }
}

/** One statement on a short-lived connection, outside any Storage (setup, teardown, inspection). */
export async function pgQuery<R extends pg.QueryResultRow = any>(
  url: string,
  text: string,
  values: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

function requirePgUrl(): string {
  const url = pgTestUrl()
  if (!url) throw new Error('TEST_PG_URL is not set')
  return url
}

/** A storage configuration for one suite on one dialect, and how to clean up after it. */
export type StorageCase = {
  name: 'sqlite' | 'postgres'
  /** Same config each call within a suite: opening it twice reaches the same database. */
  create(label: string): { config: StorageConfig; cleanup(): Promise<void> }
}

/** SQLite always (a temp file, so a second openStorage reaches the same data); PostgreSQL if configured. */
export function storageCases(): StorageCase[] {
  const cases: StorageCase[] = [
    {
      name: 'sqlite',
      create(label) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plinth-${label}-`))
        return {
          config: { kind: 'sqlite', path: path.join(dir, 'plinth.db') },
          cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
        }
      },
    },
  ]
  if (pgTestUrl()) {
    cases.push({
      name: 'postgres',
      create(label) {
        const s = withPgSchema(label)
        return { config: s.config, cleanup: s.drop }
      },
    })
  }
  return cases
}
