import { z } from 'zod'
import { FINE_TUNING_JOB } from '../domain/fine-tuning/objects.js'
import type { FineTuningJobs } from '../domain/fine-tuning/index.js'
import type { Jobs } from './index.js'

/**
 * Fine-tuning in the background: the fine_tuning.job.run job (a thin call into the domain) and
 * the sweep that fails jobs whose runner job ended without ending them (docs/fine-tuning.md).
 */
export function registerFineTuningJobs(jobs: Pick<Jobs, 'catalog' | 'leader'>, fineTuning: FineTuningJobs) {
  jobs.catalog.register(FINE_TUNING_JOB, {
    payload: z.object({ fineTuningJobId: z.string(), projectId: z.string(), resumeOf: z.string().optional() }),
    // short, so a crashed node's training is taken over soon; a cancel from another node is seen
    // within heartbeatMs (this node's own cancels abort at once)
    leaseMs: 15_000,
    heartbeatMs: 1_000,
    // each crash mid-training uses one up; a run resumes from the last checkpoint
    maxAttempts: 3,
    handler: ({ payload, signal, progress, setProgress, job }) =>
      fineTuning.run(payload, { signal, progress, setProgress, attempt: job.attempt, runnerJobId: job.id }),
  })
  jobs.leader.register({
    name: 'fine_tuning.sweep',
    everyMs: 60_000,
    run: async () => {
      await fineTuning.sweep()
    },
  })
}
