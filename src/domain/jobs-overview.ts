import { createRepos } from '../storage/repositories/index.js'
import type { Storage } from '../storage/storage.js'

/** One background job as the dashboard shows it: its row, with its progress parsed. */
export type JobOverview = {
  id: string
  kind: string
  status: string
  attempts: number
  maxAttempts: number | null
  createdAt: number
  updatedAt: number
  lastError: string | null
  payload: Record<string, unknown>
  progress: Record<string, unknown> | null
}

function parsed(text: string | null): Record<string, unknown> | null {
  if (!text) return null
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' ? value : null
  } catch {
    return null
  }
}

/** The newest background jobs (the jobs table), newest first. */
export async function recentJobs(storage: Storage, limit = 50): Promise<JobOverview[]> {
  const rows = await createRepos(storage.db).jobs.recent(limit)
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastError: row.last_error,
    payload: parsed(row.payload) ?? {},
    progress: parsed(row.progress),
  }))
}

/**
 * How far a job has come, 0..1, or undefined when its progress says nothing measurable. Ended
 * jobs are full; a handler's `{ completed, total }` (or `done`) counts; a training checkpoint is
 * its epoch of the job's epochs (`epochs`, given by the caller that knows the job).
 */
export function jobFraction(job: Pick<JobOverview, 'status' | 'progress'>, epochs?: number): number | undefined {
  if (job.status === 'succeeded') return 1
  const p = job.progress ?? {}
  const total = Number(p.total)
  const done = Number(p.completed ?? p.done)
  if (total > 0 && Number.isFinite(done)) return Math.min(1, done / total)
  const checkpoint = p.checkpoint as { epoch?: number } | undefined
  if (checkpoint?.epoch !== undefined && epochs) return Math.min(1, checkpoint.epoch / epochs)
  return undefined
}
