import { z } from 'zod'
import { RUN_JOB, WATCHDOG_EVERY_MS, type RunExecutor } from '../domain/assistants/run-executor.js'
import { createRepos } from '../storage/repositories/index.js'
import type { Storage } from '../storage/storage.js'
import type { Jobs } from './index.js'

/** Assistant runs in the background: thread.run.execute, a thin call into the executor. */
export function registerRunJobs(jobs: Pick<Jobs, 'catalog'>, executor: RunExecutor, storage: Storage) {
  jobs.catalog.register(RUN_JOB, {
    payload: z.object({
      projectId: z.string(),
      threadId: z.string(),
      runId: z.string(),
      mode: z.enum(['execute', 'expire', 'watchdog']).optional(),
    }),
    // short, so a crashed node's run is taken over soon; a cancel is seen on the run row
    leaseMs: 10_000,
    heartbeatMs: 2_000,
    maxAttempts: 3,
    backoff: { baseMs: 500, maxMs: 10_000 },
    handler: async ({ payload, signal, job }) => {
      const lastAttempt = job.attempt >= job.maxAttempts
      const outcome = await executor.runJob(payload, { signal, lastAttempt })
      // a streamed run still alive: look again later, as a new job (this one ends)
      if (outcome === 'again') {
        await createRepos(storage.db).jobs.enqueue(RUN_JOB, payload, {
          runAt: Date.now() + WATCHDOG_EVERY_MS,
        })
      }
    },
  })
}
