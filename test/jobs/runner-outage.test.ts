import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { z } from 'zod'
import { StoreUnavailableError } from '../../src/errors.js'
import { JobCatalog } from '../../src/jobs/catalog.js'
import { JobRunner } from '../../src/jobs/runner.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { waitForStatus } from './helpers.js'

// Issue 20: while the database is down every poll and heartbeat of the runner fails; the runner
// must keep going, and the job in flight and those enqueued meanwhile must run once it is back.
// The outage is a Storage whose every use throws StoreUnavailableError, as the pg pool does when
// PostgreSQL is stopped (test/multinode/chaos.test.ts stops a real one).

let dir: string
let storage: Storage
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-runner-outage-'))
  storage = await openStorage({ kind: 'sqlite', path: path.join(dir, 'plinth.db') })
})
afterAll(async () => {
  await storage?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

it('polls and heartbeats that fail do not stop the runner; jobs run once the database is back', async () => {
  let down = false
  let failedUses = 0
  const flaky = new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'db' && down) {
        failedUses++
        throw new StoreUnavailableError('database', { cause: new Error('connect ECONNREFUSED 127.0.0.1:5432') })
      }
      return Reflect.get(target, property, receiver)
    },
  })
  const ran: number[] = []
  const catalog = new JobCatalog().register('t.outage', {
    payload: z.object({ n: z.number() }),
    leaseMs: 3_000,
    heartbeatMs: 100,
    handler: async ({ payload }) => {
      await sleep(payload.n === 1 ? 600 : 10)
      ran.push(payload.n)
    },
  })
  const runner = new JobRunner(flaky, catalog, { pollIntervalMs: 20, reclaimIntervalMs: 50 })
  try {
    const jobs = createRepos(storage.db).jobs
    const first = await jobs.enqueue('t.outage', { n: 1 })
    runner.start()
    await sleep(100)
    down = true
    // enqueued on another node during the outage
    const second = await jobs.enqueue('t.outage', { n: 2 })
    await sleep(1_000)
    expect(failedUses).toBeGreaterThan(10)
    expect(runner.running).toBe(true)
    down = false
    expect((await waitForStatus(storage, first, ['succeeded'], 10_000)).status).toBe('succeeded')
    expect((await waitForStatus(storage, second, ['succeeded'], 10_000)).status).toBe('succeeded')
    expect(ran.sort()).toEqual([1, 2])
  } finally {
    await runner.destroy(500)
  }
})
