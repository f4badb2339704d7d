import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createRepos } from '../../src/storage/repositories/index.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'
import { gate, waitForStatus } from './helpers.js'

// The runner as the app context wires it: built with the context, started on demand (serve()
// starts it), and destroyed by close() before storage closes.

describe('jobs in the app context', () => {
  let app: TestApp | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  it('does not run jobs until started, then runs them', async () => {
    app = await createTestApp()
    const { ctx } = app
    const ran: number[] = []
    ctx.jobs.catalog.register('t.ctx', {
      payload: z.object({ n: z.number() }),
      handler: async ({ payload }) => void ran.push(payload.n),
    })
    const id = await ctx.storage.transaction((tx) =>
      createRepos(tx.db).jobs.enqueue('t.ctx', { n: 1 }),
    )
    ctx.jobs.wake()
    await sleep(50)
    expect(ran).toEqual([])
    ctx.jobs.start()
    await waitForStatus(ctx.storage, id, ['succeeded'])
    expect(ran).toEqual([1])
  })

  it('close() waits for the job in flight before closing storage', async () => {
    app = await createTestApp()
    const { ctx } = app
    const started = gate()
    const release = gate()
    ctx.jobs.catalog.register('t.slow', {
      payload: z.object({}),
      handler: async () => {
        started.open()
        await release.opened
      },
    })
    const id = await createRepos(ctx.storage.db).jobs.enqueue('t.slow', {})
    // what the job row says at the moment storage is closed
    let statusAtStorageClose: string | undefined
    const closeStorage = ctx.storage.close.bind(ctx.storage)
    ctx.storage.close = async () => {
      statusAtStorageClose = (await createRepos(ctx.storage.db).jobs.get(id))?.status
      await closeStorage()
    }
    ctx.jobs.start()
    await started.opened
    setTimeout(release.open, 50)
    await app.close()
    app = undefined
    expect(statusAtStorageClose).toBe('succeeded')
  })

  it('jobs.leaseSeconds sets the lease of every kind, with heartbeats inside it', async () => {
    app = await createTestApp({ jobs: { leaseSeconds: 2 } })
    const kinds = Object.fromEntries(
      app.ctx.jobs.catalog.list().map((k) => [k.kind, { leaseMs: k.leaseMs, heartbeatMs: k.heartbeatMs }]),
    )
    // the batch job's own lease is 15 s (heartbeat 2 s), the run job's 10 s (heartbeat 2 s)
    expect(kinds['batch.run']).toEqual({ leaseMs: 2000, heartbeatMs: 666 })
    expect(kinds['thread.run.execute']).toEqual({ leaseMs: 2000, heartbeatMs: 666 })
    const own = await createTestApp()
    try {
      const batch = own.ctx.jobs.catalog.get('batch.run')!
      expect({ leaseMs: batch.leaseMs, heartbeatMs: batch.heartbeatMs }).toEqual({ leaseMs: 15_000, heartbeatMs: 2_000 })
    } finally {
      await own.close()
    }
  })
})
