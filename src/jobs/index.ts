import { jobAgeGauge, jobsGauge } from '../metrics.js'
import { createRepos } from '../storage/repositories/index.js'
import { nowSeconds } from '../storage/ids.js'
import type { Storage } from '../storage/storage.js'
import { JobCatalog } from './catalog.js'
import { Leader, type LeaderOptions } from './leader.js'
import { JobRunner, type RunnerOptions } from './runner.js'

export type JobsOptions = {
  runner?: RunnerOptions
  leader?: LeaderOptions
  /** how long ended jobs are kept before the prune sweep deletes them (default 7 days) */
  retentionSeconds?: number
  /** every kind's lease instead of its own (config `jobs.leaseSeconds`); see JobCatalog */
  leaseMs?: number
  /**
   * The runner and the leader run in another process of this server (`plinth serve --workers N`
   * runs them in one worker): start() does nothing here, and wake() tells that process.
   */
  elsewhere?: { wake(): void }
}

/** The context's job system: features register kinds and sweeps; serve() starts it. */
export type Jobs = {
  catalog: JobCatalog
  runner: JobRunner
  leader: Leader
  /** Starts claiming jobs and contending for leadership. Not called in in-process tests. */
  start(): void
  /** Polls now: call after committing a transaction that enqueued a job. */
  wake(): void
  /** Jobs are being claimed: by this process's runner, or by the one of another worker. */
  running(): boolean
  /** Stops both, waiting for jobs and the sweep in flight (see JobRunner.destroy). */
  destroy(): Promise<void>
}

export function createJobs(storage: Storage, options: JobsOptions = {}): Jobs {
  const catalog = new JobCatalog({ leaseMs: options.leaseMs })
  // a lease shorter than the reclaim interval is worth little unless expired ones are seen as soon
  const reclaimIntervalMs = options.leaseMs ? Math.min(5_000, options.leaseMs) : undefined
  const runner = new JobRunner(storage, catalog, { reclaimIntervalMs, ...options.runner })
  const leader = new Leader(storage, options.leader)
  const retention = options.retentionSeconds ?? 7 * 24 * 3600
  leader.register({
    name: 'jobs.prune',
    everyMs: 3600_000,
    run: async () => {
      await createRepos(storage.db).jobs.deleteFinished(nowSeconds() - retention)
    },
  })
  // both gauges read one query per scrape (they are collected together)
  let stats: { at: number; rows: ReturnType<ReturnType<typeof createRepos>['jobs']['queueStats']> } | undefined
  const queueStats = () => {
    if (!stats || Date.now() - stats.at > 1000) stats = { at: Date.now(), rows: createRepos(storage.db).jobs.queueStats() }
    return stats.rows
  }
  const unregister = [
    jobsGauge(async (set) => {
      for (const row of await queueStats()) set({ kind: row.kind, status: row.status }, row.count)
    }),
    jobAgeGauge(async (set) => {
      const now = Date.now() / 1000
      for (const row of await queueStats()) set({ kind: row.kind, status: row.status }, Math.max(0, now - row.oldest))
    }),
  ]
  return {
    catalog,
    runner,
    leader,
    start() {
      if (options.elsewhere) return
      runner.start()
      leader.start()
    },
    wake: options.elsewhere ? () => options.elsewhere!.wake() : () => runner.wake(),
    running: () => (options.elsewhere ? true : runner.running),
    async destroy() {
      for (const off of unregister) off()
      await Promise.all([runner.destroy(), leader.destroy()])
    },
  }
}
