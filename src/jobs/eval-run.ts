import { z } from 'zod'
import { EVAL_RUN_JOB } from '../domain/evals/objects.js'
import type { EvalsService } from '../domain/evals/service.js'
import type { Jobs } from './index.js'

/** Eval runs in the background: the eval.run job, a thin call into the domain (docs/evals.md). */
export function registerEvalJobs(jobs: Pick<Jobs, 'catalog'>, evals: EvalsService) {
  jobs.catalog.register(EVAL_RUN_JOB, {
    payload: z.object({ runId: z.string(), evalId: z.string(), projectId: z.string() }),
    // short, so a crashed node's run is taken over soon; a cancel is seen within heartbeatMs
    leaseMs: 15_000,
    heartbeatMs: 2_000,
    // each crash uses one up; written output items are never graded again
    maxAttempts: 3,
    handler: ({ payload, signal, job }) => evals.run(payload, { signal, lastAttempt: job.attempt >= job.maxAttempts }),
  })
}
