import { fineTuningJobNotFound, fineTuningNotPausable, fineTuningNotResumable } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { RemoteFineTuning } from '../../providers/remote-fine-tuning.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { FineTuningJobRow } from '../../storage/repositories/fine-tuning.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from '../organization/audit.js'
import { addEvent } from './events.js'
import { FINE_TUNING_JOB, type FineTuningJobPayload } from './objects.js'

export type PauseDeps = {
  storage: Storage
  registry: ProviderRegistry
  wake(): void
  /** stops a training this process runs at once (other nodes see the status within a second) */
  pauseLocal(fineTuningJobId: string): void
}

const UPSTREAM_TIMEOUT_MS = 30_000

/**
 * POST /v1/fine_tuning/jobs/{id}/pause (SDK 6's `jobs.pause`): a running job becomes `paused`.
 * A local training stops after its current step and saves the adapter so far (run.ts); its runner
 * job then ends, so a paused job holds no runner. An upstream job is paused at the upstream and
 * mirrored on. Pausing a paused job answers it unchanged, as a cancel of a cancelled one does.
 */
export async function pauseJob(deps: PauseDeps, principal: ProjectPrincipal, id: string): Promise<FineTuningJobRow> {
  const row = await jobRow(deps, principal, id)
  if (row.status === 'paused') return row
  if (row.status !== 'running') throw fineTuningNotPausable(id, row.status)
  if (row.backend === 'upstream') {
    // (a job is `running` only once the upstream runs it: unreachable but for a race)
    if (!row.upstream_job_id) throw fineTuningNotPausable(id, 'not yet created at the upstream')
    await remoteOf(deps, row).pauseJob(row.upstream_job_id, AbortSignal.timeout(UPSTREAM_TIMEOUT_MS))
  }
  const set = { status: 'paused' as const, estimated_finish: null }
  await deps.storage.transaction(async (tx) => {
    const repos = createRepos(tx.db)
    if (!(await repos.fineTuningJobs.transition(row.project_id, id, ['running'], set))) {
      const current = (await repos.fineTuningJobs.get(row.project_id, id)) ?? row
      throw fineTuningNotPausable(id, current.status)
    }
    await addEvent(tx, row, {
      message: row.backend === 'upstream' ? 'The job was paused' : 'Pausing the job: training stops after its current step, which is saved',
    })
    await audit(tx, repos, principal, 'fine_tuning.job.paused', id)
  })
  deps.pauseLocal(id)
  return { ...row, ...set }
}

/**
 * POST /v1/fine_tuning/jobs/{id}/resume: a paused job runs again. A local one gets a new runner
 * job that starts from the checkpoint saved at the pause (it waits for the runner that paused it
 * to have saved it); an upstream one is resumed at the upstream.
 */
export async function resumeJob(deps: PauseDeps, principal: ProjectPrincipal, id: string): Promise<FineTuningJobRow> {
  const row = await jobRow(deps, principal, id)
  if (row.status !== 'paused') throw fineTuningNotResumable(id, row.status)
  if (row.backend === 'upstream' && row.upstream_job_id)
    await remoteOf(deps, row).resumeJob(row.upstream_job_id, AbortSignal.timeout(UPSTREAM_TIMEOUT_MS))
  const runner = row.backend === 'local' ? newId('job_') : row.job_id
  const set = { status: 'running' as const, job_id: runner }
  await deps.storage.transaction(async (tx) => {
    const repos = createRepos(tx.db)
    if (!(await repos.fineTuningJobs.transition(row.project_id, id, ['paused'], set))) {
      const current = (await repos.fineTuningJobs.get(row.project_id, id)) ?? row
      throw fineTuningNotResumable(id, current.status)
    }
    if (row.backend === 'local') {
      const payload: FineTuningJobPayload = { fineTuningJobId: id, projectId: row.project_id, ...(row.job_id ? { resumeOf: row.job_id } : {}) }
      await repos.jobs.enqueue(FINE_TUNING_JOB, payload, { id: runner! })
    }
    await addEvent(tx, row, { message: 'The job was resumed', at: nowSeconds() })
    await audit(tx, repos, principal, 'fine_tuning.job.resumed', id)
  })
  deps.wake()
  return { ...row, ...set }
}

/** Audit-logged as creation and cancel are (Plinth's types, docs/fine-tuning.md). */
async function audit(tx: Storage, repos: Repos, principal: ProjectPrincipal, type: 'fine_tuning.job.paused' | 'fine_tuning.job.resumed', id: string) {
  const project = await repos.projects.get(principal.projectId)
  await recordAudit(tx, principal.orgId, actorOf(principal), {
    type,
    project: project ? { id: project.id, name: project.name } : undefined,
    details: { id },
  })
}

async function jobRow(deps: PauseDeps, principal: ProjectPrincipal, id: string) {
  const row = await createRepos(deps.storage.db).fineTuningJobs.get(principal.projectId, id)
  if (!row) throw fineTuningJobNotFound(id)
  return row
}

function remoteOf(deps: PauseDeps, row: FineTuningJobRow): RemoteFineTuning {
  let remote: RemoteFineTuning | undefined
  try {
    remote = deps.registry.resolve(row.model).provider.remoteFineTuning
  } catch {
    remote = undefined
  }
  if (!remote) throw new Error(`${row.model} is no longer served by an upstream that fine-tunes`)
  return remote
}
