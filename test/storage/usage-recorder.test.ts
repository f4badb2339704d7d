import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageRecorder } from '../../src/domain/inference/usage.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { storageCases } from '../helpers/pg.js'

// Requests do not wait for their usage rows; readers wait for settled(). Here: rows recorded in
// one turn are all committed once settled() resolves, on every dialect, overlapping flushes
// count as written only once those before them are, and a turn's requests that share a record
// key are one row holding their count and sums.

/** Requests in usage rows: a row holds the requests of one turn that share its key. */
const requestsOf = (rows: { requests: number }[]) => rows.reduce((n, r) => n + r.requests, 0)

const principal = { kind: 'project', orgId: 'org-x', projectId: 'proj_u', keyId: 'key_u' } as never

describe.each(storageCases())('UsageRecorder on $name', ({ create }) => {
  let storage: Storage
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('recorder')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  it('settled() resolves once every row recorded before it is committed, rollups included', async () => {
    const recorder = new UsageRecorder(storage)
    const count = async () => requestsOf(await createRepos(storage.db).usage.listForProject('proj_u'))
    const before = await count()
    for (let i = 0; i < 5; i++) void recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 3, outputTokens: 2 })
    await recorder.settled()
    expect(await count()).toBe(before + 5)
    // a second wave while the first may still be in flight
    for (let i = 0; i < 3; i++) void recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    const first = recorder.settled()
    for (let i = 0; i < 2; i++) void recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    await first
    expect(await count()).toBeGreaterThanOrEqual(before + 8)
    await recorder.settled()
    expect(await count()).toBe(before + 10)
    const rollups = await createRepos(storage.db).usageRollups.query({ operations: ['completions'], width: '1d', from: 0, to: 2 ** 40, projectIds: ['proj_u'], groupBy: [] })
    expect(rollups.reduce((n, r) => n + r.requests, 0)).toBe(before + 10)
  })

  it('the rows of one turn share one promise, resolved once they and every flush before them are committed', async () => {
    const recorder = new UsageRecorder(storage)
    const count = async () => requestsOf(await createRepos(storage.db).usage.listForProject('proj_u'))
    const before = await count()
    const first = recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    const second = recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    expect(second).toBe(first)
    await first
    expect(await count()).toBe(before + 2)
    // the next turn's rows make a new batch; an explicit flush (as at shutdown) writes it at once
    const next = recorder.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    expect(next).not.toBe(first)
    await recorder.flush()
    await next
    expect(await count()).toBe(before + 3)
    // nothing is written twice when the scheduled flush finds the batch gone
    await new Promise((resolve) => setImmediate(resolve))
    await recorder.settled()
    expect(await count()).toBe(before + 3)
  })

  it('sums the requests of one turn per record key into one row; other keys keep their own', async () => {
    const recorder = new UsageRecorder(storage)
    const other = { kind: 'project', orgId: 'org-x', projectId: 'proj_u', keyId: 'key_v' } as never
    const at = 1_700_000_000
    void recorder.record(principal, { operation: 'completions', model: 'sum-m', inputTokens: 3, outputTokens: 2, at })
    void recorder.record(principal, { operation: 'completions', model: 'sum-m', inputTokens: 4, outputTokens: 1, cachedTokens: 2, at })
    void recorder.record(principal, { operation: 'completions', model: 'sum-m', inputTokens: 1, outputTokens: 1, at: at + 1 })
    void recorder.record(principal, { operation: 'completions', model: 'sum-m', inputTokens: 1, outputTokens: 1, batch: true, at })
    void recorder.record(other, { operation: 'completions', model: 'sum-m', inputTokens: 5, outputTokens: 5, at })
    void recorder.record(principal, { operation: 'images', model: 'sum-m', inputTokens: 0, outputTokens: 0, images: 2, size: '256x256', at })
    void recorder.record(principal, { operation: 'images', model: 'sum-m', inputTokens: 0, outputTokens: 0, images: 1, size: '256x256', at })
    void recorder.record(principal, { operation: 'images', model: 'sum-m', inputTokens: 0, outputTokens: 0, images: 1, size: '512x512', at })
    await recorder.settled()
    const rows = (await storage.db.selectFrom('usage_records').selectAll().where('model', '=', 'sum-m').execute())
      .map((r) => [r.operation, r.api_key_id, r.created_at, r.batch, r.size, r.requests, r.input_tokens, r.output_tokens, r.cached_tokens, r.images])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    expect(rows).toEqual([
      ['completions', 'key_u', at, 0, null, 2, 7, 3, 2, 0],
      ['completions', 'key_u', at, 1, null, 1, 1, 1, 0, 0],
      ['completions', 'key_u', at + 1, 0, null, 1, 1, 1, 0, 0],
      ['completions', 'key_v', at, 0, null, 1, 5, 5, 0, 0],
      ['images', 'key_u', at, 0, '256x256', 2, 0, 0, 0, 3],
      ['images', 'key_u', at, 0, '512x512', 1, 0, 0, 0, 1],
    ])
    // the rollups hold the same sums as with a row per request
    const rollups = await createRepos(storage.db).usageRollups.query({ operations: ['completions'], width: '1d', from: 0, to: 2 ** 40, models: ['sum-m'], groupBy: [] })
    expect(rollups.map((r) => [r.requests, r.input_tokens, r.output_tokens, r.cached_tokens])).toEqual([[5, 14, 10, 2]])
  })

  it('flushes at most once per window: later turns join the next flush, and settled() does not wait it out', async () => {
    const runBatch = storage.runBatch.bind(storage)
    let flushes = 0
    const counting = Object.assign(Object.create(storage) as Storage, { runBatch: (queries: Parameters<Storage['runBatch']>[0]) => (flushes++, runBatch(queries)) })
    const windowed = new UsageRecorder(counting, 10_000)
    const count = async () => requestsOf(await createRepos(storage.db).usage.listForProject('proj_u'))
    const before = await count()
    await windowed.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    expect(flushes).toBe(1)
    // the next turns' rows wait for the window (10 s here), all in one flush
    const later = windowed.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    await new Promise((resolve) => setTimeout(resolve, 30))
    void windowed.record(principal, { operation: 'completions', model: 'm', inputTokens: 1, outputTokens: 1 })
    expect(flushes).toBe(1)
    const started = performance.now()
    await windowed.settled()
    await later
    expect(performance.now() - started).toBeLessThan(5000)
    expect(flushes).toBe(2)
    expect(await count()).toBe(before + 3)
  })

  it('settled() with nothing recorded resolves at once', async () => {
    await new UsageRecorder(storage).settled()
  })
})
