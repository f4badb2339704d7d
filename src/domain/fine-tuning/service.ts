import { randomInt } from 'node:crypto'
import {
  checkpointNotFound,
  checkpointPermissionNotFound,
  fineTuningFileNotFound,
  fineTuningFilePurpose,
  fineTuningHyperparametersTwice,
  fineTuningIntegrationsNotServed,
  fineTuningJobNotFound,
  fineTuningMethodNotServed,
  fineTuningModelNotAvailable,
  fineTuningNotCancellable,
  fineTuningSuffixInvalid,
  modelNotFound,
  permissionDenied,
  projectNotFound,
} from '../../errors.js'
import type { Principal, ProjectPrincipal } from '../../principal.js'
import type { ProviderRegistry, ResolvedModel } from '../../providers/registry.js'
import type {
  CheckpointPermission,
  CheckpointPermissionCreateParams,
  CheckpointPermissionListQuery,
  FineTuningJob,
  FineTuningJobCheckpoint,
  FineTuningJobCreateParams,
  FineTuningJobEvent,
  FineTuningJobListQuery,
  FineTuningPageQuery,
} from '../../schemas/fine-tuning.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { FineTuningJobRow } from '../../storage/repositories/fine-tuning.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import { actorOf, recordAudit } from '../organization/audit.js'
import { addEvent } from './events.js'
import { requested } from './hyperparameters.js'
import { SUFFIX_PATTERN } from './names.js'
import {
  FINE_TUNING_JOB,
  toCheckpointObject,
  toEventObject,
  toJobObject,
  toPermissionObject,
  type FineTuningJobPayload,
} from './objects.js'
import { pauseJob, resumeJob } from './pause.js'
import type { FineTunedModels } from './serving.js'

export type FineTuningDeps = {
  storage: Storage
  files: FilesService
  registry: ProviderRegistry
  models: FineTunedModels
  /** polls the job runner now (the domain may not import jobs/) */
  wake(): void
  /** aborts a job running in this process at once (a cancel; other nodes see it at a heartbeat) */
  abortLocal(fineTuningJobId: string): void
  /** pauses a training running in this process at once (pause.ts) */
  pauseLocal(fineTuningJobId: string): void
}

const UNFINISHED = ['validating_files', 'queued', 'running', 'paused'] as const
const METADATA_PAGE = 100

/**
 * The fine-tuning API: jobs (created with a `fine_tuning.job.run` job in one transaction, run in
 * the background by run.ts), their events and checkpoints, checkpoint permissions (admin keys),
 * and deleting a fine-tuned model.
 */
export class FineTuningService {
  constructor(private readonly deps: FineTuningDeps) {}

  // spec: createFineTuningJob
  async create(principal: ProjectPrincipal, params: FineTuningJobCreateParams): Promise<FineTuningJob> {
    const { storage, files } = this.deps
    const base = this.baseModel(principal, params.model)
    const remote = base.provider.remoteFineTuning
    const methodType = params.method?.type ?? 'supervised'
    if (!remote) {
      if (!base.provider.train || !base.provider.trainable) throw fineTuningModelNotAvailable(params.model, 'its backend cannot train models.')
      const trainable = await base.provider.trainable(base.upstreamModel)
      if (!trainable.ok) throw fineTuningModelNotAvailable(params.model, trainable.reason)
      if (methodType !== 'supervised') throw fineTuningMethodNotServed(methodType, params.model)
      if (params.integrations?.length) throw fineTuningIntegrationsNotServed()
    }
    if (params.suffix && !SUFFIX_PATTERN.test(params.suffix)) throw fineTuningSuffixInvalid(params.suffix)
    const own = params.method?.[methodType as 'supervised'] as { hyperparameters?: Record<string, unknown> } | undefined
    if (params.hyperparameters && own?.hyperparameters) throw fineTuningHyperparametersTwice()
    await this.checkFile(principal, 'training_file', params.training_file)
    if (params.validation_file) await this.checkFile(principal, 'validation_file', params.validation_file)
    const hyper = { ...requested(params.hyperparameters ?? (own?.hyperparameters as never)) }
    const method = {
      type: methodType,
      [methodType]: { ...params.method?.[methodType as 'supervised'], hyperparameters: { ...own?.hyperparameters, ...hyper } },
    }
    const now = nowSeconds()
    const row: FineTuningJobRow = {
      id: newId('ftjob-'),
      project_id: principal.projectId,
      org_id: principal.orgId,
      api_key_id: principal.keyId,
      model: params.model,
      backend: remote ? 'upstream' : 'local',
      training_file: params.training_file,
      validation_file: params.validation_file ?? null,
      status: 'validating_files',
      method: JSON.stringify(method),
      suffix: params.suffix ?? null,
      seed: params.seed ?? randomInt(0, 2147483647),
      metadata: params.metadata ? JSON.stringify(params.metadata) : null,
      integrations: JSON.stringify(params.integrations ?? []),
      error: null,
      fine_tuned_model: null,
      result_files: '[]',
      trained_tokens: null,
      estimated_finish: null,
      created_at: now,
      finished_at: null,
      job_id: newId('job_'),
      upstream_job_id: null,
      upstream_model: null,
      adapter_path: null,
      model_deleted_at: null,
    }
    void files
    await storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      await repos.fineTuningJobs.insert(row)
      await addEvent(tx, row, { message: `Created fine-tuning job: ${row.id}`, at: now })
      await enqueue(repos, row, row.job_id!)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'fine_tuning.job.created',
        project: await projectRef(repos, principal.projectId),
        details: { id: row.id, data: { model: row.model, training_file: row.training_file, suffix: row.suffix } },
      })
    })
    this.deps.wake()
    return toJobObject(row)
  }

  // spec: listPaginatedFineTuningJobs
  async list(principal: ProjectPrincipal, query: FineTuningJobListQuery): Promise<ListPage<FineTuningJob>> {
    const repos = createRepos(this.deps.storage.db)
    const filter = query.metadata
    if (filter === undefined) {
      const rows = await repos.fineTuningJobs.list(principal.projectId, query)
      return toPage(rows.slice(0, query.limit).map(toJobObject), rows.length > query.limit)
    }
    // metadata filters run on the decoded rows: page through until the page is full
    const wanted = filter === 'null' ? undefined : Object.entries(filter)
    const matches = (row: FineTuningJobRow) => {
      if (!wanted) return row.metadata === null || row.metadata === '{}'
      const metadata = row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : {}
      return wanted.every(([k, v]) => metadata[k] === v)
    }
    const out: FineTuningJobRow[] = []
    let after = query.after
    for (;;) {
      const rows = await repos.fineTuningJobs.list(principal.projectId, { after, limit: METADATA_PAGE })
      for (const row of rows.slice(0, METADATA_PAGE)) {
        if (out.length > query.limit) break
        if (matches(row)) out.push(row)
      }
      if (out.length > query.limit || rows.length <= METADATA_PAGE) break
      after = rows[METADATA_PAGE - 1].id
    }
    return toPage(out.slice(0, query.limit).map(toJobObject), out.length > query.limit)
  }

  // spec: retrieveFineTuningJob
  async get(principal: ProjectPrincipal, id: string): Promise<FineTuningJob> {
    return toJobObject(await this.row(principal, id))
  }

  // spec: cancelFineTuningJob
  async cancel(principal: ProjectPrincipal, id: string): Promise<FineTuningJob> {
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.fineTuningJobs.get(principal.projectId, id)
      if (!row) throw fineTuningJobNotFound(id)
      if (row.status === 'cancelled') return row
      const now = nowSeconds()
      const set = { status: 'cancelled' as const, finished_at: now, estimated_finish: null }
      if (!(await repos.fineTuningJobs.transition(row.project_id, id, [...UNFINISHED], set))) {
        const current = (await repos.fineTuningJobs.get(row.project_id, id)) ?? row
        throw fineTuningNotCancellable(id, current.status)
      }
      if (row.job_id) await repos.jobs.requestCancel(row.job_id)
      await addEvent(tx, row, { message: 'The job was cancelled', at: now })
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'fine_tuning.job.cancelled',
        project: await projectRef(repos, principal.projectId),
        details: { id },
      })
      return { ...row, ...set }
    })
    this.deps.abortLocal(id)
    return toJobObject(row)
  }

  // SDK 6: fineTuning.jobs.pause (newer than the spec file)
  async pause(principal: ProjectPrincipal, id: string): Promise<FineTuningJob> {
    return toJobObject(await pauseJob(this.deps, principal, id))
  }

  // SDK 6: fineTuning.jobs.resume
  async resume(principal: ProjectPrincipal, id: string): Promise<FineTuningJob> {
    return toJobObject(await resumeJob(this.deps, principal, id))
  }

  // spec: listFineTuningEvents
  async events(principal: ProjectPrincipal, id: string, query: FineTuningPageQuery): Promise<{ object: 'list'; data: FineTuningJobEvent[]; has_more: boolean }> {
    await this.row(principal, id)
    const rows = await createRepos(this.deps.storage.db).fineTuningEvents.list(id, query)
    return { object: 'list', data: rows.slice(0, query.limit).map(toEventObject), has_more: rows.length > query.limit }
  }

  // spec: listFineTuningJobCheckpoints
  async checkpoints(principal: ProjectPrincipal, id: string, query: FineTuningPageQuery): Promise<ListPage<FineTuningJobCheckpoint>> {
    await this.row(principal, id)
    const rows = await createRepos(this.deps.storage.db).fineTuningCheckpoints.list(id, query)
    return toPage(rows.slice(0, query.limit).map(toCheckpointObject), rows.length > query.limit)
  }

  // spec: createFineTuningCheckpointPermission (admin keys)
  async grant(principal: Principal, model: string, params: CheckpointPermissionCreateParams): Promise<ListPage<CheckpointPermission>> {
    await this.ownerOf(principal, model)
    const created = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const out = []
      for (const projectId of params.project_ids) {
        const project = await repos.projects.get(projectId)
        if (!project || project.org_id !== principal.orgId) throw projectNotFound(projectId, 'project_ids')
        const row = await repos.fineTuningPermissions.grant({
          id: newId('cp_'),
          org_id: principal.orgId,
          fine_tuned_model_checkpoint: model,
          project_id: projectId,
          created_at: nowSeconds(),
        })
        await recordAudit(tx, principal.orgId, actorOf(principal), {
          type: 'checkpoint_permission.created',
          project: { id: project.id, name: project.name },
          details: { id: row.id, data: { project_id: projectId, fine_tuned_model_checkpoint: model } },
        })
        out.push(row)
      }
      return out
    })
    for (const row of created) this.deps.registry.setPrivateAccess(model, row.project_id, true)
    await this.deps.models.announce()
    return toPage(created.map(toPermissionObject), false)
  }

  // spec: listFineTuningCheckpointPermissions (admin keys)
  async permissions(principal: Principal, model: string, query: CheckpointPermissionListQuery): Promise<ListPage<CheckpointPermission>> {
    await this.ownerOf(principal, model)
    const rows = await createRepos(this.deps.storage.db).fineTuningPermissions.list(principal.orgId, model, {
      after: query.after,
      limit: query.limit,
      projectId: query.project_id,
      order: query.order,
    })
    return toPage(rows.slice(0, query.limit).map(toPermissionObject), rows.length > query.limit)
  }

  // spec: deleteFineTuningCheckpointPermission (admin keys)
  async revoke(principal: Principal, model: string, permissionId: string) {
    await this.ownerOf(principal, model)
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.fineTuningPermissions.get(principal.orgId, model, permissionId)
      if (!row) throw checkpointPermissionNotFound(permissionId)
      await repos.fineTuningPermissions.delete(row.id)
      const project = await repos.projects.get(row.project_id)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'checkpoint_permission.deleted',
        project: project ? { id: project.id, name: project.name } : undefined,
        details: { id: row.id },
      })
      return row
    })
    // the owner keeps its own model even if it was also granted to itself
    const owner = await this.ownerOf(principal, model)
    if (row.project_id !== owner) this.deps.registry.setPrivateAccess(model, row.project_id, false)
    await this.deps.models.announce()
    return { object: 'checkpoint.permission' as const, id: row.id, deleted: true }
  }

  /**
   * DELETE /v1/models/{model} for a fine-tuned model: only its own project's keys may delete it;
   * a project granted it gets a 403, others a 404 (it does not exist for them). Undefined when
   * `model` is no fine-tuned model of this server.
   */
  async deleteModel(principal: Principal, model: string) {
    const repos = createRepos(this.deps.storage.db)
    const job = await repos.fineTuningJobs.byModel(model)
    if (!job || job.model_deleted_at !== null) return undefined
    if (job.project_id !== principal.projectId) {
      if (!principal.models || !this.deps.registry.has(model)) throw modelNotFound(model)
      try {
        this.deps.registry.resolve(model, principal.models)
      } catch {
        throw modelNotFound(model)
      }
      throw permissionDenied(`You do not have permission to delete the model \`${model}\`. Only fine-tuned models owned by your project can be deleted.`, 'model_not_deletable')
    }
    // the upstream that serves it, looked up before the model leaves the registry
    const remote = job.upstream_model ? this.deps.registry.privateModel(model)?.provider.remoteFineTuning : undefined
    await this.deps.storage.transaction(async (tx) => {
      const r = createRepos(tx.db)
      await r.fineTuningJobs.update(job.project_id, job.id, { model_deleted_at: nowSeconds() })
      await r.fineTuningPermissions.deleteForModel(model)
    })
    this.deps.models.remove(model)
    await this.deps.models.announce()
    if (remote && job.upstream_model) await remote.deleteModel(job.upstream_model, AbortSignal.timeout(30_000)).catch(() => {})
    return { id: model, object: 'model' as const, deleted: true }
  }

  private baseModel(principal: ProjectPrincipal, model: string): ResolvedModel {
    try {
      return this.deps.registry.resolve(model, principal.models)
    } catch {
      throw fineTuningModelNotAvailable(model)
    }
  }

  private async checkFile(principal: ProjectPrincipal, param: 'training_file' | 'validation_file', id: string) {
    const file = await this.deps.files.find(principal.projectId, id)
    if (!file) throw fineTuningFileNotFound(param, id)
    if (file.purpose !== 'fine-tune') throw fineTuningFilePurpose(param, id, file.purpose)
  }

  private async row(principal: ProjectPrincipal, id: string) {
    const row = await createRepos(this.deps.storage.db).fineTuningJobs.get(principal.projectId, id)
    if (!row) throw fineTuningJobNotFound(id)
    return row
  }

  /** The project owning a fine-tuned model or checkpoint of this organization. */
  private async ownerOf(principal: Principal, model: string): Promise<string> {
    const repos = createRepos(this.deps.storage.db)
    const job = await repos.fineTuningJobs.byModel(model)
    if (job && job.org_id === principal.orgId && job.model_deleted_at === null) return job.project_id
    const checkpoint = await repos.fineTuningCheckpoints.byModel(model)
    if (checkpoint) {
      const owner = await repos.fineTuningJobs.get(checkpoint.project_id, checkpoint.fine_tuning_job_id)
      if (owner && owner.org_id === principal.orgId) return owner.project_id
    }
    throw checkpointNotFound(model)
  }
}

export function enqueue(repos: Repos, job: Pick<FineTuningJobRow, 'id' | 'project_id'>, jobId: string) {
  const payload: FineTuningJobPayload = { fineTuningJobId: job.id, projectId: job.project_id }
  return repos.jobs.enqueue(FINE_TUNING_JOB, payload, { id: jobId })
}

async function projectRef(repos: Repos, projectId: string) {
  const project = await repos.projects.get(projectId)
  return project ? { id: project.id, name: project.name } : undefined
}
