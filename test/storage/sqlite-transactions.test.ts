import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'

// SQLite only: transactions take the write lock at BEGIN (BEGIN IMMEDIATE) and a busy BEGIN is
// retried. Two Storage handles on one file stand in for two processes (the CLI and the server):
// each has its own better-sqlite3 connection.

describe('sqlite transactions across connections', () => {
  let dir: string
  let a: Storage
  let b: Storage

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-sqlite-tx-'))
    const file = path.join(dir, 'plinth.db')
    // Short busy timeouts: better-sqlite3 waits synchronously, which would stall this event loop.
    a = await openStorage({ kind: 'sqlite', path: file, busyTimeoutMs: 20 })
    b = await openStorage({ kind: 'sqlite', path: file, busyTimeoutMs: 20 })
  })
  afterEach(async () => {
    await a?.close()
    await b?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const org = (id: string) => ({ id, name: id, created_at: 1 })

  it('holds the write lock from BEGIN, before the first write', async () => {
    await a.transaction(async (tx) => {
      // only a read so far: a deferred BEGIN would not hold the write lock yet
      await createRepos(tx.db).organizations.first()
      await expect(createRepos(b.db).organizations.insert(org('org-b'))).rejects.toMatchObject({
        code: expect.stringMatching(/^SQLITE_BUSY/),
      })
      await createRepos(tx.db).organizations.insert(org('org-a'))
    })
    // and the lock is released at commit
    await createRepos(b.db).organizations.insert(org('org-b'))
    expect(
      (await a.db.selectFrom('organizations').select('id').orderBy('id').execute()).map(
        (r) => r.id,
      ),
    ).toEqual(['org-a', 'org-b'])
  })

  it('retries a busy BEGIN until the other writer commits', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const didStart = new Promise<void>((resolve) => (started = resolve))
    const first = a.transaction(async (tx) => {
      started()
      await held
      await createRepos(tx.db).organizations.insert(org('org-first'))
    })
    await didStart
    setTimeout(release, 40)
    // b's BEGIN IMMEDIATE finds the lock taken, backs off, and gets it once `first` commits
    await b.transaction(async (tx) => {
      expect(await createRepos(tx.db).organizations.first()).toMatchObject(org('org-first'))
      await createRepos(tx.db).organizations.insert(org('org-second'))
    })
    await first
    expect(
      await b.db.selectFrom('organizations').select('id').orderBy('id').execute(),
    ).toHaveLength(2)
  })

  it('gives up with SQLITE_BUSY when the lock is never released', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const didStart = new Promise<void>((resolve) => (started = resolve))
    const first = a.transaction(async () => {
      started()
      await held
    })
    await didStart
    let ran = false
    await expect(
      b.transaction(async () => {
        ran = true
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) })
    expect(ran).toBe(false)
    release()
    await first
    await sleep(0)
  })
})
