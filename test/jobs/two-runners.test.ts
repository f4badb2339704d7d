import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { JobCatalog } from '../../src/jobs/catalog.js'
import { JobRunner } from '../../src/jobs/runner.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { waitFor } from './helpers.js'

// The multi-node guarantee: two runners, each on its own Storage (its own pool, as two nodes
// would be), drain one queue together and every job runs exactly once. On PostgreSQL this is
// FOR UPDATE SKIP LOCKED at work; on SQLite, two connections to one file.

const JOBS = 200

describe.each(storageCases())('two runners on $name', ({ create }) => {
  it(`run each of ${JOBS} jobs exactly once`, async () => {
    const { config, cleanup } = create('jobs_two_runners')
    const a = await openStorage(config)
    const b = await openStorage(config)
    const executions: { n: number; owner: string }[] = []
    const runners: JobRunner[] = []
    try {
      const ids = await a.transaction(async (tx) => {
        const jobs = createRepos(tx.db).jobs
        const out: string[] = []
        for (let n = 0; n < JOBS; n++) out.push(await jobs.enqueue('t.once', { n }))
        return out
      })
      for (const [storage, owner] of [
        [a, 'node-a'],
        [b, 'node-b'],
      ] as const) {
        const catalog = new JobCatalog().register('t.once', {
          payload: z.object({ n: z.number() }),
          handler: async ({ payload }) => {
            executions.push({ n: payload.n, owner })
            // long enough for both runners' claims to interleave
            await sleep(1 + (payload.n % 3))
          },
        })
        runners.push(
          new JobRunner(storage, catalog, { owner, concurrency: 8, pollIntervalMs: 5 }),
        )
      }
      runners.forEach((r) => r.start())

      await waitFor(
        async () => {
          const { count } = await a.db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll<number>().as('count'))
            .where('status', '=', 'succeeded')
            .executeTakeFirstOrThrow()
          return Number(count) === JOBS
        },
        'every job to succeed',
        15_000,
      )
      await Promise.all(runners.map((r) => r.destroy()))

      const counts = new Map<number, number>()
      for (const e of executions) counts.set(e.n, (counts.get(e.n) ?? 0) + 1)
      const duplicates = [...counts].filter(([, c]) => c > 1)
      const missing = Array.from({ length: JOBS }, (_, n) => n).filter((n) => !counts.has(n))
      expect(duplicates).toEqual([])
      expect(missing).toEqual([])
      expect(executions).toHaveLength(JOBS)
      // both nodes took part
      const ran = (owner: string) => executions.filter((e) => e.owner === owner).length
      expect(ran('node-a')).toBeGreaterThan(0)
      expect(ran('node-b')).toBeGreaterThan(0)

      const rows = await a.db.selectFrom('jobs').select(['id', 'attempts', 'lease_owner']).execute()
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort())
      expect(rows.every((r) => r.attempts === 1)).toBe(true)
      // the row's owner is the runner that ran it
      const ownerOf = new Map(rows.map((r) => [r.id, r.lease_owner]))
      expect(executions.map((e) => ownerOf.get(ids[e.n]))).toEqual(executions.map((e) => e.owner))
    } finally {
      await Promise.all(runners.map((r) => r.destroy(100)))
      await a.close()
      await b.close()
      await cleanup()
    }
  })
})
skippedPgCase('two runners')
