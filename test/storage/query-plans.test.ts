import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capture, explain, fullScans, generate, operations, type ScaleSizes } from '../../bench/scale-data.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { pgTestUrl, skippedPgCase, withPgSchema } from '../helpers/pg.js'

// The reads that must stay fast as the data grows (npm run bench:scale), EXPLAINed: none may read a
// whole table where an index should serve it.

const sizes: ScaleSizes = { files: 300, completions: 300, messages: 200, batches: 300, usage: 2000 }

type Case = { name: string; open(): Promise<{ storage: Storage; drop(): Promise<void> }> }
const cases: Case[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-plans-'))
      const config: StorageConfig = { kind: 'sqlite', path: path.join(dir, 'plinth.db') }
      return { storage: await openStorage(config), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) }
    },
  },
]
if (pgTestUrl()) {
  cases.push({
    name: 'PostgreSQL',
    async open() {
      const schema = withPgSchema(`plans_${randomBytes(2).toString('hex')}`)
      return { storage: await openStorage(schema.config), drop: () => schema.drop() }
    },
  })
} else skippedPgCase('query plans on PostgreSQL')

describe.each(cases)('query plans of the reads at scale ($name)', ({ open }) => {
  let storage: Storage
  let drop: () => Promise<void>
  beforeAll(async () => {
    ;({ storage, drop } = await open())
    await generate(storage, sizes)
  }, 60_000)
  afterAll(async () => {
    await storage?.close()
    await drop?.()
  })

  it.each(operations(sizes).map((op) => [op.name, op] as const))('%s: no full table scan', async (_name, op) => {
    const queries = await capture(storage.db, op)
    expect(queries.length).toBeGreaterThan(0)
    for (const query of queries) {
      const plan = await explain(storage, query)
      expect(fullScans(storage.dialect, plan), `${query.sql}\n${plan.join('\n')}`).toEqual([])
      if (op.index) expect(plan.join('\n')).toMatch(op.index)
    }
  })
})
