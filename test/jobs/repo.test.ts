import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { ClaimKind, JobsRepo } from '../../src/storage/repositories/jobs.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The queue's queries, on every dialect. Times are passed explicitly (unix ms), so nothing here
// waits on the clock.

const T = 1_750_000_000_000
const A: ClaimKind = { kind: 'test.a', leaseMs: 1_000, maxAttempts: 2 }
const B: ClaimKind = { kind: 'test.b', leaseMs: 5_000, maxAttempts: 4 }

describe.each(storageCases())('jobs repository on $name', ({ create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage
  let jobs: JobsRepo

  beforeAll(async () => {
    ;({ config, cleanup } = create('jobs_repo'))
    storage = await openStorage(config)
    jobs = createRepos(storage.db).jobs
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })
  beforeEach(async () => {
    await storage.db.deleteFrom('jobs').execute()
  })

  it('enqueues inside the caller transaction: rolled back, no job; committed, a job', async () => {
    let rolledBack = ''
    await expect(
      storage.transaction(async (tx) => {
        rolledBack = await createRepos(tx.db).jobs.enqueue('test.a', { n: 1 })
        throw new Error('the object could not be created')
      }),
    ).rejects.toThrow('could not be created')
    expect(await jobs.get(rolledBack)).toBeUndefined()

    const id = await storage.transaction((tx) =>
      createRepos(tx.db).jobs.enqueue('test.a', { n: 2 }),
    )
    expect(await jobs.get(id)).toMatchObject({
      kind: 'test.a',
      payload: '{"n":2}',
      status: 'queued',
      attempts: 0,
      max_attempts: null,
      lease_owner: null,
      progress: null,
    })
  })

  it('treats an explicit id as an idempotency key', async () => {
    await jobs.enqueue('test.a', { n: 1 }, { id: 'job_fixed' })
    await jobs.enqueue('test.a', { n: 2 }, { id: 'job_fixed' })
    expect((await jobs.get('job_fixed'))?.payload).toBe('{"n":1}')
  })

  it('claims due jobs of the given kinds, oldest first, with per-kind leases', async () => {
    const late = await jobs.enqueue('test.a', {}, { runAt: T + 60_000 })
    const a2 = await jobs.enqueue('test.a', {}, { runAt: T - 10 })
    const a1 = await jobs.enqueue('test.a', {}, { runAt: T - 20 })
    const b = await jobs.enqueue('test.b', {}, { runAt: T - 5, maxAttempts: 9 })
    await jobs.enqueue('test.other', {}, { runAt: T - 30 })

    const first = await jobs.claim('runner-1', [A, B], 2, T)
    expect(first.map((j) => j.id)).toEqual([a1, a2])
    expect(first[0]).toMatchObject({
      status: 'running',
      lease_owner: 'runner-1',
      lease_expires_at: T + A.leaseMs,
      attempts: 1,
      max_attempts: A.maxAttempts,
    })
    const second = await jobs.claim('runner-2', [A, B], 10, T)
    expect(second.map((j) => j.id)).toEqual([b])
    // per kind lease; an enqueue-time max_attempts wins over the kind's
    expect(second[0]).toMatchObject({ lease_expires_at: T + B.leaseMs, max_attempts: 9 })
    // not due yet, unknown kind: nothing left
    expect(await jobs.claim('runner-2', [A, B], 10, T)).toEqual([])
    expect(await jobs.claim('runner-2', [A], 10, T + 60_000)).toMatchObject([{ id: late }])
  })

  it('heartbeats only for the lease owner, and reports a cancel request', async () => {
    const id = await jobs.enqueue('test.a', {}, { runAt: T })
    await jobs.claim('owner', [A], 1, T)
    expect(await jobs.heartbeat(id, 'owner', 3_000, T + 500)).toBe('running')
    expect((await jobs.get(id))?.lease_expires_at).toBe(T + 3_500)
    expect(await jobs.heartbeat(id, 'intruder', 3_000, T + 600)).toBeUndefined()
    expect((await jobs.get(id))?.lease_expires_at).toBe(T + 3_500)

    expect(await jobs.requestCancel(id)).toBe('cancelling')
    expect(await jobs.heartbeat(id, 'owner', 3_000, T + 700)).toBe('cancelling')
    expect(await jobs.markCancelled(id, 'owner')).toBe(true)
    expect(await jobs.heartbeat(id, 'owner', 3_000, T + 800)).toBeUndefined()
    expect((await jobs.get(id))?.status).toBe('cancelled')
  })

  it('cancels a queued job at once and leaves ended jobs alone', async () => {
    const queued = await jobs.enqueue('test.a', {}, { runAt: T })
    expect(await jobs.requestCancel(queued)).toBe('cancelled')
    expect(await jobs.claim('owner', [A], 1, T)).toEqual([])
    expect(await jobs.requestCancel(queued)).toBe('cancelled')
    expect(await jobs.requestCancel('job_missing')).toBeUndefined()

    const done = await jobs.enqueue('test.a', {}, { runAt: T })
    await jobs.claim('owner', [A], 1, T)
    expect(await jobs.complete(done, 'owner')).toBe(true)
    expect(await jobs.requestCancel(done)).toBe('succeeded')
  })

  it('retries a failure after the delay until max_attempts, then fails', async () => {
    const id = await jobs.enqueue('test.a', {}, { runAt: T })
    await jobs.claim('owner', [A], 1, T)
    expect(await jobs.fail(id, 'intruder', 'nope', 100, T)).toBeUndefined()
    expect(await jobs.fail(id, 'owner', 'boom 1', 100, T)).toBe('queued')
    expect(await jobs.get(id)).toMatchObject({
      status: 'queued',
      run_at: T + 100,
      lease_owner: null,
      lease_expires_at: null,
      last_error: 'boom 1',
      attempts: 1,
    })
    expect(await jobs.claim('owner', [A], 1, T + 99)).toEqual([])
    expect(await jobs.claim('owner', [A], 1, T + 100)).toHaveLength(1)
    // attempt 2 of 2: no retry left
    expect(await jobs.fail(id, 'owner', 'boom 2', 100, T + 200)).toBe('failed')
    expect(await jobs.get(id)).toMatchObject({
      status: 'failed',
      attempts: 2,
      last_error: 'boom 2',
      lease_owner: 'owner',
    })
  })

  it('fails at once without a retry delay, and ends cancelled if a cancel came first', async () => {
    const permanent = await jobs.enqueue('test.a', {}, { runAt: T })
    const cancelled = await jobs.enqueue('test.a', {}, { runAt: T })
    await jobs.claim('owner', [A], 2, T)
    expect(await jobs.fail(permanent, 'owner', 'bad input', null, T)).toBe('failed')
    await jobs.requestCancel(cancelled)
    expect(await jobs.fail(cancelled, 'owner', 'stopped', 100, T)).toBe('cancelled')
  })

  it('saves progress for the lease owner only', async () => {
    const id = await jobs.enqueue('test.a', {}, { runAt: T })
    await jobs.claim('owner', [A], 1, T)
    expect(await jobs.setProgress(id, 'owner', { done: 3, total: 10 })).toBe(true)
    expect(await jobs.setProgress(id, 'intruder', { done: 9 })).toBe(false)
    expect(JSON.parse((await jobs.get(id))!.progress!)).toEqual({ done: 3, total: 10 })
  })

  it('reclaims expired leases: requeued (attempt counted), or failed if none left', async () => {
    const retried = await jobs.enqueue('test.a', {}, { runAt: T })
    const exhausted = await jobs.enqueue('test.a', {}, { runAt: T, maxAttempts: 1 })
    const cancelling = await jobs.enqueue('test.a', {}, { runAt: T })
    const alive = await jobs.enqueue('test.b', {}, { runAt: T })
    await jobs.claim('dead', [A, B], 4, T)
    await jobs.requestCancel(cancelling)

    // A's lease (1 s) expired, B's (5 s) did not
    const reclaimed = await jobs.reclaimExpired(T + 1_001)
    expect(Object.fromEntries(reclaimed.map((j) => [j.id, j.status]))).toEqual({
      [retried]: 'queued',
      [exhausted]: 'failed',
      [cancelling]: 'cancelled',
    })
    expect(await jobs.get(retried)).toMatchObject({
      status: 'queued',
      attempts: 1,
      lease_owner: null,
      run_at: T + 1_001,
      last_error: 'lease expired: runner dead stopped heartbeating',
    })
    expect((await jobs.get(alive))?.status).toBe('running')
    // the dead runner's late writes are refused
    expect(await jobs.complete(retried, 'dead')).toBe(false)
    expect(await jobs.claim('other', [A], 5, T + 1_001)).toMatchObject([
      { id: retried, attempts: 2 },
    ])
    expect(await jobs.reclaimExpired(T + 1_002)).toEqual([])
  })

  it('prunes ended jobs older than the cutoff', async () => {
    const old = await jobs.enqueue('test.a', {}, { runAt: T })
    const queued = await jobs.enqueue('test.a', {}, { runAt: T + 60_000 })
    await jobs.claim('owner', [A], 1, T)
    await jobs.complete(old, 'owner', T)
    expect(await jobs.deleteFinished(Math.floor(T / 1000))).toBe(0)
    expect(await jobs.deleteFinished(Math.floor(T / 1000) + 1)).toBe(1)
    expect(await jobs.get(old)).toBeUndefined()
    expect(await jobs.get(queued)).toBeDefined()
  })
})
skippedPgCase('jobs repository')
