import { createRepos } from '../../storage/repositories/index.js'
import { LocalAborts } from './aborts.js'
import type { FineTuningJobPayload } from './objects.js'
import { FineTuningRun, type RunDeps, type RunOptions } from './run.js'
import { FineTunedModels } from './serving.js'
import { FineTuningService } from './service.js'

export type FineTuningJobs = {
  run(payload: FineTuningJobPayload, options: RunOptions): Promise<void>
  sweep(): Promise<number>
}

export type FineTuningServices = FineTuningJobs & {
  service: FineTuningService
  models: FineTunedModels
}

/** The fine-tuning API, its job handler and sweep, and the serving of fine-tuned models. */
export function createFineTuning(deps: Omit<RunDeps, 'models'> & { wake(): void }): FineTuningServices {
  const models = new FineTunedModels(deps.storage, deps.registry)
  const aborts = new LocalAborts()
  const runner = new FineTuningRun({ ...deps, models, pauses: { track: (id, controller) => aborts.trackPause(id, controller) } })
  const service = new FineTuningService({
    storage: deps.storage,
    files: deps.files,
    registry: deps.registry,
    models,
    wake: deps.wake,
    abortLocal: (id) => aborts.abort(id),
    pauseLocal: (id) => aborts.pause(id),
  })
  return {
    service,
    models,
    async run(payload, options) {
      const tracked = aborts.track(payload.fineTuningJobId, options.signal)
      try {
        await runner.run(payload, { ...options, signal: tracked.signal })
      } finally {
        tracked.release()
      }
    },
    /**
     * Jobs left unfinished by a runner job that ended (it crashed its node `maxAttempts` times, or
     * was pruned): failed cleanly, never left `running`.
     */
    async sweep() {
      const repos = createRepos(deps.storage.db)
      let count = 0
      for (const job of await repos.fineTuningJobs.unfinished(500)) {
        const runnerJob = job.job_id ? await repos.jobs.get(job.job_id) : undefined
        if (runnerJob && !['failed', 'cancelled', 'succeeded'].includes(runnerJob.status)) continue
        await runner.fail(job, {
          code: 'server_error',
          message: 'The job failed: training was interrupted too many times (the server stopped while it ran).',
          param: null,
        })
        count++
      }
      return count
    },
  }
}
