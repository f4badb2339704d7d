import { z } from 'zod'
import { BATCH_JOB } from '../domain/batches/batch-object.js'
import type { BatchesService } from '../domain/batches/service.js'
import type { Jobs } from './index.js'

/**
 * Batches in the background: the batch.run job (a thin call into the domain) and the sweep that
 * gives a new job to batches left without one (docs/batches.md).
 */
export function registerBatchJobs(jobs: Pick<Jobs, 'catalog' | 'leader'>, batches: BatchesService) {
  jobs.catalog.register(BATCH_JOB, {
    payload: z.object({ batchId: z.string(), projectId: z.string() }),
    // short, so a crashed node's batch is taken over soon; a cancel is seen within heartbeatMs
    leaseMs: 15_000,
    heartbeatMs: 2_000,
    // each crash mid-batch uses one up; finished lines are never run again
    maxAttempts: 5,
    handler: ({ payload, signal, job }) =>
      batches.run(payload, { signal, lastAttempt: job.attempt >= job.maxAttempts }),
  })
  jobs.leader.register({
    name: 'batches.sweep',
    everyMs: 60_000,
    run: async () => {
      await batches.sweep()
    },
  })
}
