import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'

export type NewEvent = {
  level?: 'info' | 'warn' | 'error'
  message: string
  type?: 'message' | 'metrics'
  data?: Record<string, unknown>
  at?: number
}

/** Adds a `fine_tuning.job.event` to a job (in `tx` when given). */
export async function addEvent(storage: Storage, job: { id: string; project_id: string }, event: NewEvent) {
  await createRepos(storage.db).fineTuningEvents.insert({
    id: newId('ftevent-'),
    fine_tuning_job_id: job.id,
    project_id: job.project_id,
    created_at: event.at ?? nowSeconds(),
    level: event.level ?? 'info',
    message: event.message,
    type: event.type ?? 'message',
    data: event.data ? JSON.stringify(event.data) : null,
  })
}
