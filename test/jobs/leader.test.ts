import { randomInt } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { Leader } from '../../src/jobs/leader.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { describePg, storageCases } from '../helpers/pg.js'
import { waitFor } from './helpers.js'

// Singleton sweeps: exactly one node leads. The lock key is random per test: advisory locks are
// database-wide, and other suites (and their schemas) share the database.

describe('leader on sqlite', () => {
  const sqlite = storageCases().find((c) => c.name === 'sqlite')!
  let storage: Storage | undefined
  let cleanup: (() => Promise<void>) | undefined
  afterEach(async () => {
    await storage?.close()
    await cleanup?.()
  })

  it('the process leads: sweeps run at once, then every everyMs, until destroy', async () => {
    const created = sqlite.create('leader')
    cleanup = created.cleanup
    storage = await openStorage(created.config)
    const leader = new Leader(storage, { checkMs: 10 })
    const runs: number[] = []
    let aborted = false
    leader.register({
      name: 'count',
      everyMs: 30,
      run: async (signal) => {
        runs.push(Date.now())
        signal.addEventListener('abort', () => (aborted = true))
      },
    })
    leader.start()
    await waitFor(() => runs.length >= 3, 'three sweeps')
    expect(leader.isLeader).toBe(true)
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(29)
    await leader.destroy()
    const after = runs.length
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(runs.length).toBe(after)
    expect(aborted).toBe(true)
  })
})

describePg('leader on postgres', () => {
  const pg = storageCases().find((c) => c.name === 'postgres')!
  const opened: Storage[] = []
  let cleanup: (() => Promise<void>) | undefined
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()))
    await cleanup?.()
  })

  it('one of two nodes leads; the other takes over when it steps down', async () => {
    const created = pg.create('leader')
    cleanup = created.cleanup
    const lockKey = randomInt(1, 2 ** 31)
    const runsBy: string[] = []
    const leaders: { node: string; leader: Leader }[] = []
    // opened one after the other: CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one
    for (const node of ['node-a', 'node-b']) {
      const storage = await openStorage(created.config)
      opened.push(storage)
      const leader = new Leader(storage, { lockKey, checkMs: 20 })
      leader.register({ name: 'sweep', everyMs: 20, run: async () => void runsBy.push(node) })
      leaders.push({ node, leader })
    }
    leaders.forEach((l) => l.leader.start())
    await waitFor(() => runsBy.length >= 5, 'five sweeps')
    const first = leaders.find((l) => l.leader.isLeader)!
    const second = leaders.find((l) => l !== first)!
    expect(second.leader.isLeader).toBe(false)
    expect(new Set(runsBy)).toEqual(new Set([first.node]))

    await first.leader.destroy()
    const handover = runsBy.length
    await waitFor(() => second.leader.isLeader && runsBy.length >= handover + 2, 'the handover')
    expect(new Set(runsBy.slice(handover))).toEqual(new Set([second.node]))
    await second.leader.destroy()
  })
})
