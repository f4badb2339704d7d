import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageRecorder } from '../../src/domain/inference/usage.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { storageCases } from '../helpers/pg.js'

// Requests do not wait for their usage rows; readers wait for settled(). Here: rows recorded in
// one turn are all committed once settled() resolves, on every dialect, and overlapping flushes
// count as written only once those before them are.

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
    const count = async () => (await createRepos(storage.db).usage.listForProject('proj_u')).length
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
    const count = async () => (await createRepos(storage.db).usage.listForProject('proj_u')).length
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

  it('settled() with nothing recorded resolves at once', async () => {
    await new UsageRecorder(storage).settled()
  })
})
