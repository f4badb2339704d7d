import {
  batchEndpointNotServed,
  batchInputTooLarge,
  batchInputWrongPurpose,
  batchNotCancellable,
  batchNotFound,
} from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { Batch, BatchCreateParams, BatchListQuery } from '../../schemas/batches.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { BatchRow } from '../../storage/repositories/batches.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import {
  BATCH_JOB,
  COMPLETION_WINDOW_SECONDS,
  toBatchObject,
  type BatchJobPayload,
} from './batch-object.js'
import { BatchRun, type BatchRunDeps, type RunOptions } from './run.js'

const SERVED_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/moderations',
]
const SWEEP_PAGE = 100

/**
 * The Batch API. Creating a batch stores it with a `batch.run` job in one transaction; the job
 * (BatchRun) does the work in the background. Cancelling asks the job to stop; the sweep gives a
 * new job to batches whose job ended without finishing them (cancelled while queued, or crashed
 * for good) once they are cancelling or past their window.
 */
export class BatchesService {
  private readonly runner: BatchRun
  private readonly storage: Storage
  private readonly files: FilesService
  private readonly limits: BatchRunDeps['limits']

  constructor(
    deps: BatchRunDeps,
    /** polls the job runner now (context.ts passes jobs.wake: the domain may not import jobs/) */
    private readonly wakeJobs: () => void = () => {},
  ) {
    this.runner = new BatchRun(deps)
    this.storage = deps.storage
    this.files = deps.files
    this.limits = deps.limits
  }

  // spec: createBatch
  async create(principal: ProjectPrincipal, params: BatchCreateParams): Promise<Batch> {
    if (!SERVED_ENDPOINTS.includes(params.endpoint)) throw batchEndpointNotServed(params.endpoint)
    const file = await this.files.get(principal, params.input_file_id)
    if (file.purpose !== 'batch') throw batchInputWrongPurpose(file.id, file.purpose)
    if (file.bytes > this.limits.maxInputBytes)
      throw batchInputTooLarge(file.id, file.bytes, this.limits.maxInputBytes)
    const now = nowSeconds()
    const row: BatchRow = {
      id: newId('batch_'),
      project_id: principal.projectId,
      org_id: principal.orgId,
      api_key_id: principal.keyId,
      endpoint: params.endpoint,
      input_file_id: file.id,
      completion_window: params.completion_window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      errors: null,
      metadata: params.metadata ? JSON.stringify(params.metadata) : null,
      request_total: 0,
      request_completed: 0,
      request_failed: 0,
      job_id: newId('job_'),
      created_at: now,
      in_progress_at: null,
      expires_at: now + COMPLETION_WINDOW_SECONDS,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      model: null,
      output_expires_after: params.output_expires_after?.seconds ?? null,
      usage_input_tokens: 0,
      usage_cached_tokens: 0,
      usage_output_tokens: 0,
    }
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      await repos.batches.insert(row)
      await enqueue(repos, row, row.job_id!)
    })
    this.wakeJobs()
    return toBatchObject(row)
  }

  // spec: listBatches
  async list(principal: ProjectPrincipal, query: BatchListQuery): Promise<ListPage<Batch>> {
    const rows = await createRepos(this.storage.db).batches.list(principal.projectId, query)
    return toPage(rows.slice(0, query.limit).map(toBatchObject), rows.length > query.limit)
  }

  // spec: retrieveBatch
  async get(principal: ProjectPrincipal, id: string): Promise<Batch> {
    const row = await createRepos(this.storage.db).batches.get(principal.projectId, id)
    if (!row) throw batchNotFound(id)
    return toBatchObject(row)
  }

  // spec: cancelBatch
  async cancel(principal: ProjectPrincipal, id: string): Promise<Batch> {
    const row = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.batches.get(principal.projectId, id)
      if (!row) throw batchNotFound(id)
      // F8: cancelling a cancelled (or cancelling) batch is allowed and changes nothing
      if (row.status === 'cancelling' || row.status === 'cancelled') return row
      const now = nowSeconds()
      const moved = await repos.batches.transition(
        row.project_id,
        id,
        ['validating', 'in_progress', 'finalizing'],
        { status: 'cancelling', cancelling_at: now },
      )
      if (!moved) {
        // it ended meanwhile (or had already): say how it ended
        const current = (await repos.batches.get(row.project_id, id)) ?? row
        if (current.status === 'cancelling' || current.status === 'cancelled') return current
        throw batchNotCancellable(current.status)
      }
      // a running job is told to stop and finishes the cancel itself; otherwise a new job does
      let jobId = row.job_id
      const job = jobId ? await repos.jobs.requestCancel(jobId) : undefined
      if (job !== 'cancelling') {
        jobId = newId('job_')
        await enqueue(repos, row, jobId)
        await repos.batches.setJob(row.project_id, id, jobId)
      }
      return { ...row, status: 'cancelling' as const, cancelling_at: now, job_id: jobId }
    })
    this.wakeJobs()
    return toBatchObject(row)
  }

  /** The batch.run job's handler (jobs/batch-run.ts). */
  run(payload: BatchJobPayload, options: RunOptions): Promise<void> {
    return this.runner.run(payload, options)
  }

  /**
   * The leader's sweep: a new job for each batch that needs one to move on (past its window, or
   * cancelling) and has none alive. Idempotent: a second sweep finds the new job alive.
   */
  async sweep(now = nowSeconds()): Promise<number> {
    let count = 0
    for (;;) {
      const orphans = await createRepos(this.storage.db).batches.orphaned(now, SWEEP_PAGE)
      for (const batch of orphans) {
        await this.storage.transaction(async (tx) => {
          const repos = createRepos(tx.db)
          const jobId = newId('job_')
          await enqueue(repos, { id: batch.id, project_id: batch.project_id }, jobId)
          await repos.batches.setJob(batch.project_id, batch.id, jobId)
        })
      }
      count += orphans.length
      if (orphans.length < SWEEP_PAGE) break
    }
    if (count > 0) this.wakeJobs()
    return count
  }
}

function enqueue(repos: Repos, batch: Pick<BatchRow, 'id' | 'project_id'>, jobId: string) {
  const payload: BatchJobPayload = { batchId: batch.id, projectId: batch.project_id }
  return repos.jobs.enqueue(BATCH_JOB, payload, { id: jobId })
}
