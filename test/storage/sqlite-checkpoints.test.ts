import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { openStorage, type Storage } from '../../src/storage/storage.js'

// SQLite's WAL checkpoints run on a worker thread (storage/sqlite-checkpoints.ts): the server's
// connection never checkpoints inside a commit, and the WAL still gets moved into the database.

const walBytes = (file: string) => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0)

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return check()
}

describe('SQLite checkpoints on a worker thread', () => {
  let dir: string
  let storage: Storage | undefined
  afterEach(async () => {
    await storage?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('never checkpoints in a commit, and the worker moves the WAL into the database', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-checkpoint-'))
    const file = path.join(dir, 'plinth.db')
    storage = await openStorage({ kind: 'sqlite', path: file })
    const auto = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(storage.db)
    expect(auto.rows[0].wal_autocheckpoint).toBe(0)

    await sql`CREATE TABLE filler (v TEXT)`.execute(storage.db)
    const row = 'x'.repeat(100_000)
    // 8 MB: twice what SQLite's default would checkpoint at (1000 pages)
    for (let i = 0; i < 80; i++) await sql`INSERT INTO filler (v) VALUES (${row})`.execute(storage.db)
    expect(walBytes(file)).toBeGreaterThan(8_000_000)
    // the pages reach the database file although this connection never checkpointed
    const moved = await until(async () => fs.statSync(file).size > 8_000_000, 10_000)
    expect(moved).toBe(true)
    // and, once every page is in, the next write starts the WAL over instead of growing it
    const reused = await until(async () => {
      const before = walBytes(file)
      await sql`INSERT INTO filler (v) VALUES ('small')`.execute(storage!.db)
      return walBytes(file) === before
    }, 10_000)
    expect(reused).toBe(true)
    const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM filler`.execute(storage.db)
    expect(rows.rows[0].n).toBeGreaterThanOrEqual(81)
  })

  it('stops the worker on close, so nothing keeps the process alive', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-checkpoint-'))
    storage = await openStorage({ kind: 'sqlite', path: path.join(dir, 'plinth.db') })
    await storage.close()
    storage = undefined
  })
})
