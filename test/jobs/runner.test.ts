import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  JobAbort,
  JobCatalog,
  PermanentJobError,
  retryDelayMs,
  type JobAbortReason,
} from '../../src/jobs/catalog.js'
import { JobRunner, type RunnerOptions } from '../../src/jobs/runner.js'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { JobsRepo } from '../../src/storage/repositories/jobs.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { gate, waitFor, waitForStatus } from './helpers.js'

// Runner semantics on every dialect, in real time with short leases and poll intervals.

const FAST: RunnerOptions = { pollIntervalMs: 10, reclaimIntervalMs: 10, shutdownTimeoutMs: 2_000 }
const Payload = z.object({ n: z.number() })

describe.each(storageCases())('job runner on $name', ({ create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage
  let jobs: JobsRepo
  const runners: JobRunner[] = []
  const extraStorages: Storage[] = []

  function runner(catalog: JobCatalog, options: RunnerOptions = {}, on = storage) {
    const r = new JobRunner(on, catalog, { ...FAST, ...options })
    runners.push(r)
    r.start()
    return r
  }

  beforeAll(async () => {
    ;({ config, cleanup } = create('jobs_runner'))
    storage = await openStorage(config)
    jobs = createRepos(storage.db).jobs
  })
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.destroy(100)))
    await Promise.all(extraStorages.splice(0).map((s) => s.close()))
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })
  beforeEach(async () => {
    await storage.db.deleteFrom('jobs').execute()
  })

  it('runs a job with its parsed payload, and marks it succeeded', async () => {
    const seen: unknown[] = []
    const catalog = new JobCatalog().register('t.ok', {
      payload: Payload,
      handler: async ({ payload, job }) => void seen.push({ payload, attempt: job.attempt }),
    })
    const id = await jobs.enqueue('t.ok', { n: 7 })
    runner(catalog)
    expect(await waitForStatus(storage, id, ['succeeded'])).toMatchObject({ attempts: 1 })
    expect(seen).toEqual([{ payload: { n: 7 }, attempt: 1 }])
  })

  it('retries with backoff, then fails with last_error', async () => {
    const runs: number[] = []
    const catalog = new JobCatalog().register('t.flaky', {
      payload: Payload,
      maxAttempts: 3,
      backoff: { baseMs: 40, maxMs: 1_000 },
      handler: async ({ job }) => {
        runs.push(Date.now())
        throw new Error(`boom ${job.attempt}`)
      },
    })
    const id = await jobs.enqueue('t.flaky', { n: 1 })
    runner(catalog)
    const row = await waitForStatus(storage, id, ['failed'])
    expect(row).toMatchObject({ attempts: 3, last_error: 'boom 3' })
    expect(runs).toHaveLength(3)
    // equal jitter: at least half the exponential delay (40 then 80 ms)
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(20)
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(40)
  })

  it('fails at once on a PermanentJobError or an invalid payload', async () => {
    const catalog = new JobCatalog().register('t.permanent', {
      payload: Payload,
      maxAttempts: 5,
      handler: async () => {
        throw new PermanentJobError('the input file is gone')
      },
    })
    const permanent = await jobs.enqueue('t.permanent', { n: 1 })
    const invalid = await jobs.enqueue('t.permanent', { n: 'one' })
    runner(catalog)
    expect(await waitForStatus(storage, permanent, ['failed'])).toMatchObject({
      attempts: 1,
      last_error: 'the input file is gone',
    })
    const bad = await waitForStatus(storage, invalid, ['failed'])
    expect(bad.attempts).toBe(1)
    expect(bad.last_error).toMatch(/^invalid payload for t.permanent/)
  })

  it('aborts the handler signal when the job is cancelled', async () => {
    const started = gate()
    let reason: JobAbortReason | undefined
    const catalog = new JobCatalog().register('t.long', {
      payload: Payload,
      leaseMs: 300,
      heartbeatMs: 20,
      handler: async ({ signal }) => {
        started.open()
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        reason = (signal.reason as JobAbort).reason
        throw signal.reason
      },
    })
    const id = await jobs.enqueue('t.long', { n: 1 })
    runner(catalog)
    await started.opened
    expect(await jobs.requestCancel(id)).toBe('cancelling')
    expect(await waitForStatus(storage, id, ['cancelled'])).toMatchObject({ attempts: 1 })
    expect(reason).toBe('cancel')
  })

  it('saves progress, which a retry sees', async () => {
    const seen: unknown[] = []
    const catalog = new JobCatalog().register('t.progress', {
      payload: Payload,
      backoff: { baseMs: 1, maxMs: 1 },
      handler: async ({ job, progress, setProgress }) => {
        seen.push(progress)
        await setProgress({ done: job.attempt * 10 })
        if (job.attempt === 1) throw new Error('crash after a checkpoint')
      },
    })
    const id = await jobs.enqueue('t.progress', { n: 1 })
    runner(catalog)
    const row = await waitForStatus(storage, id, ['succeeded'])
    expect(seen).toEqual([null, { done: 10 }])
    expect(JSON.parse(row.progress!)).toEqual({ done: 20 })
  })

  it('a job whose runner stopped heartbeating is reclaimed and run by another runner', async () => {
    const runsBy: string[] = []
    const started = gate()
    const catalog = new JobCatalog().register('t.resume', {
      payload: Payload,
      leaseMs: 200,
      heartbeatMs: 50,
      handler: async ({ job, signal }) => {
        runsBy.push(`${job.attempt}`)
        if (job.attempt > 1) return
        started.open()
        // the first runner "hangs" here until the test abandons it
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
      },
    })
    const id = await jobs.enqueue('t.resume', { n: 1 })
    const first = runner(catalog, { owner: 'first' })
    await started.opened
    // shutdown timeout 0: the handler is abandoned, its lease left to expire
    await first.destroy(0)
    expect((await jobs.get(id))?.status).toBe('running')

    // another node: its own Storage
    const other = await openStorage(config)
    extraStorages.push(other)
    runner(catalog, { owner: 'second' }, other)
    const row = await waitForStatus(storage, id, ['succeeded'])
    expect(row).toMatchObject({ attempts: 2, lease_owner: 'second' })
    expect(runsBy).toEqual(['1', '2'])
  })

  it('aborts a handler whose lease was taken over, and drops its outcome', async () => {
    const started = gate()
    let reason: JobAbortReason | undefined
    const catalog = new JobCatalog().register('t.stolen', {
      payload: Payload,
      leaseMs: 200,
      heartbeatMs: 50,
      maxAttempts: 1,
      handler: async ({ signal }) => {
        started.open()
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        reason = (signal.reason as JobAbort).reason
      },
    })
    const id = await jobs.enqueue('t.stolen', { n: 1 })
    runner(catalog, { owner: 'victim' })
    await started.opened
    // as if this runner had stalled past its lease and another node reclaimed the job
    // (one statement, judged 10 s ahead, so the victim's heartbeat cannot slip in between)
    expect(await jobs.reclaimExpired(Date.now() + 10_000)).toMatchObject([{ id }])
    await waitFor(() => reason, 'the handler to be aborted')
    expect(reason).toBe('lease-lost')
    await sleep(30)
    // reclaimed with no attempt left: failed by the reclaim, not succeeded by the victim's return
    expect(await jobs.get(id)).toMatchObject({
      status: 'failed',
      last_error: 'lease expired: runner victim stopped heartbeating',
    })
  })

  it('destroy() stops claiming and waits for jobs in flight', async () => {
    const release = gate()
    const started = gate()
    const catalog = new JobCatalog().register('t.slow', {
      payload: Payload,
      handler: async () => {
        started.open()
        await release.opened
      },
    })
    const inFlight = await jobs.enqueue('t.slow', { n: 1 })
    const r = runner(catalog)
    await started.opened
    let destroyed = false
    const destroying = r.destroy().then(() => (destroyed = true))
    const later = await jobs.enqueue('t.slow', { n: 2 })
    r.wake()
    await sleep(50)
    expect(destroyed).toBe(false)
    release.open()
    await destroying
    expect((await jobs.get(inFlight))?.status).toBe('succeeded')
    expect((await jobs.get(later))?.status).toBe('queued')
  })

  it('runs at most `concurrency` jobs at once, and wake() skips the poll wait', async () => {
    let running = 0
    let peak = 0
    const catalog = new JobCatalog().register('t.count', {
      payload: Payload,
      handler: async () => {
        peak = Math.max(peak, ++running)
        await sleep(15)
        running--
      },
    })
    // a poll interval far beyond the test: only wake() and freed slots start work
    const r = runner(catalog, { concurrency: 3, pollIntervalMs: 60_000 })
    await sleep(20)
    const ids = await Promise.all(
      Array.from({ length: 9 }, (_, n) => jobs.enqueue('t.count', { n })),
    )
    r.wake()
    for (const id of ids) await waitForStatus(storage, id, ['succeeded'], 3_000)
    expect(peak).toBe(3)
  })
})
skippedPgCase('job runner')

describe('retryDelayMs', () => {
  it('doubles per attempt up to the cap, with half of it jittered', () => {
    const backoff = { baseMs: 100, maxMs: 1_000 }
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, backoff, () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ])
    expect(retryDelayMs(2, backoff, () => 1)).toBe(200)
  })
})
