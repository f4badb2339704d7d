import {
  evalNotFound,
  evalNotSupported,
  evalOutputItemNotFound,
  evalRunNeedsInputMessages,
  evalRunNeedsModel,
  evalRunNotCancellable,
  evalRunNotFound,
  modelNotFound,
} from '../../errors.js'
import type { ModelPolicy, ProjectPrincipal } from '../../principal.js'
import type {
  Eval,
  EvalCreateParams,
  EvalListQuery,
  EvalRun,
  EvalRunCreateParams,
  EvalRunListQuery,
  EvalRunOutputItem,
  EvalUpdateParams,
  Grader,
  GraderParam,
  OutputItemListQuery,
} from '../../schemas/evals.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { EvalRunRow } from '../../storage/repositories/evals.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import {
  EVAL_RUN_JOB,
  toDataSourceConfig,
  toEvalObject,
  toGraders,
  toOutputItemObject,
  toRunObject,
  type EvalRunJobPayload,
} from './objects.js'
import { checkItems, compileItemSchema, type StoredConfig } from './item-schema.js'
import { fileTooLarge, MAX_FILE_BYTES } from './items.js'
import { EvalRunExecutor, type EvalRunDeps, type EvalRunOptions } from './run.js'

export type EvalsDeps = EvalRunDeps & {
  files: Pick<FilesService, 'content' | 'get'>
  /** whether the project may use the model (context.ts: the provider registry's `usable`) */
  hasModel: (model: string, policy?: ModelPolicy) => boolean
  /** polls the job runner now (the domain may not import jobs/) */
  wake?: () => void
}

/**
 * The Evals API (docs/evals.md): evals (a data source config and testing criteria), their runs
 * (an eval.run job each, executor in run.ts) and the runs' output items, all of one project.
 */
export class EvalsService {
  private readonly executor: EvalRunExecutor

  constructor(private readonly deps: EvalsDeps) {
    this.executor = new EvalRunExecutor(deps)
  }

  private repos(): Repos {
    return createRepos(this.deps.storage.db)
  }

  // spec: createEval
  async create(principal: ProjectPrincipal, params: EvalCreateParams): Promise<Eval> {
    const embeddingModel = this.deps.embeddingModel?.(principal.projectId)
    const cosine = !!this.deps.embeddings && !!embeddingModel && this.deps.hasModel(embeddingModel, principal.models)
    checkGraders(params.testing_criteria, { python: !!this.deps.sandbox, cosine })
    const now = nowSeconds()
    const row = {
      id: newId('eval_'),
      project_id: principal.projectId,
      org_id: principal.orgId,
      name: params.name ?? `Eval ${new Date(now * 1000).toISOString().slice(0, 10)}`,
      data_source_config: JSON.stringify(toDataSourceConfig(params.data_source_config)),
      testing_criteria: JSON.stringify(toGraders(params.testing_criteria)),
      metadata: params.metadata ? JSON.stringify(params.metadata) : null,
      created_at: now,
      updated_at: now,
    }
    await this.repos().evals.insert(row)
    return toEvalObject(row)
  }

  // spec: getEval
  async get(principal: ProjectPrincipal, id: string): Promise<Eval> {
    return toEvalObject(await this.evalRow(principal, id))
  }

  // spec: updateEval (name and metadata only; `metadata: null` clears it)
  async update(principal: ProjectPrincipal, id: string, params: EvalUpdateParams): Promise<Eval> {
    const row = await this.evalRow(principal, id)
    const set: { name?: string; metadata?: string | null; updated_at: number } = { updated_at: nowSeconds() }
    if (params.name !== undefined) set.name = params.name
    if (params.metadata !== undefined) set.metadata = params.metadata ? JSON.stringify(params.metadata) : null
    await this.repos().evals.update(principal.projectId, id, set)
    return toEvalObject({ ...row, ...set })
  }

  // spec: deleteEval: its runs (stopped) and their output items go with it
  async delete(principal: ProjectPrincipal, id: string) {
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if (!(await repos.evals.get(principal.projectId, id))) throw evalNotFound(id)
      for (const jobId of await repos.evalRuns.liveJobs(principal.projectId, id)) await repos.jobs.requestCancel(jobId)
      await repos.evals.delete(principal.projectId, id)
    })
    return { object: 'eval.deleted', deleted: true, eval_id: id }
  }

  // spec: listEvals
  async list(principal: ProjectPrincipal, query: EvalListQuery): Promise<ListPage<Eval>> {
    const rows = await this.repos().evals.list(principal.projectId, { ...query, orderBy: query.order_by })
    return toPage(rows.slice(0, query.limit).map(toEvalObject), rows.length > query.limit)
  }

  // spec: createEvalRun
  async createRun(principal: ProjectPrincipal, evalId: string, params: EvalRunCreateParams): Promise<EvalRun> {
    const evalRow = await this.evalRow(principal, evalId)
    const source = params.data_source
    let model: string | null = null
    if (source.type !== 'jsonl') {
      if (!source.model) throw evalRunNeedsModel(source.type)
      if (!source.input_messages) {
        throw evalRunNeedsInputMessages()
      }
      if (!this.deps.hasModel(source.model, principal.models)) throw modelNotFound(source.model)
      model = source.model
    }
    // the graders' models too: a run that could not grade would only error item after item
    for (const grader of JSON.parse(evalRow.testing_criteria) as Grader[]) {
      if ((grader.type === 'label_model' || grader.type === 'score_model') && !this.deps.hasModel(grader.model, principal.models)) {
        throw modelNotFound(grader.model)
      }
    }
    // "The datasource will be validated against the schema specified in the config of the
    // evaluation" (the SDK's createRun): inline items now, a file's in the job, before sampling
    const config = JSON.parse(evalRow.data_source_config) as StoredConfig
    if (config.type === 'custom') {
      const validate = compileItemSchema(config.schema?.properties?.item)
      if (source.source.type === 'file_content') {
        await checkItems(validate, source.source.content, undefined, (i) => `data_source.source.content[${i}].item`)
      }
    }
    if (source.source.type === 'file_id') {
      const file = await this.deps.files.get(principal, source.source.id)
      if (file.bytes > MAX_FILE_BYTES) throw fileTooLarge(file.id, file.bytes)
    }
    const row: EvalRunRow = {
      id: newId('evalrun_'),
      eval_id: evalId,
      project_id: principal.projectId,
      org_id: principal.orgId,
      api_key_id: principal.keyId || null,
      name: params.name ?? model ?? `${source.type}-run`,
      model,
      status: 'queued',
      data_source: JSON.stringify(source),
      metadata: params.metadata ? JSON.stringify(params.metadata) : null,
      error: null,
      result_total: 0,
      result_passed: 0,
      result_failed: 0,
      result_errored: 0,
      per_model_usage: '[]',
      per_testing_criteria_results: '[]',
      job_id: newId('job_'),
      created_at: nowSeconds(),
    }
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      await repos.evalRuns.insert(row)
      const payload: EvalRunJobPayload = { runId: row.id, evalId, projectId: row.project_id }
      await repos.jobs.enqueue(EVAL_RUN_JOB, payload, { id: row.job_id! })
    })
    this.deps.wake?.()
    return toRunObject(row)
  }

  // spec: getEvalRun
  async getRun(principal: ProjectPrincipal, evalId: string, runId: string): Promise<EvalRun> {
    return toRunObject(await this.runRow(principal, evalId, runId))
  }

  // spec: getEvalRuns
  async listRuns(principal: ProjectPrincipal, evalId: string, query: EvalRunListQuery): Promise<ListPage<EvalRun>> {
    await this.evalRow(principal, evalId)
    const rows = await this.repos().evalRuns.list(principal.projectId, evalId, query)
    return toPage(rows.slice(0, query.limit).map(toRunObject), rows.length > query.limit)
  }

  // spec: cancelEvalRun. Canceling a canceled run changes nothing; an ended one is a 409.
  async cancelRun(principal: ProjectPrincipal, evalId: string, runId: string): Promise<EvalRun> {
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.evalRuns.get(principal.projectId, evalId, runId)
      if (!row) throw evalRunNotFound(runId)
      if (row.status === 'canceled') return row
      if (!(await repos.evalRuns.transition(row.id, ['queued', 'in_progress'], { status: 'canceled' }))) {
        throw evalRunNotCancellable(row.status)
      }
      if (row.job_id) await repos.jobs.requestCancel(row.job_id)
      return (await repos.evalRuns.get(principal.projectId, evalId, runId))!
    })
    return toRunObject(row)
  }

  // spec: deleteEvalRun
  async deleteRun(principal: ProjectPrincipal, evalId: string, runId: string) {
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.evalRuns.get(principal.projectId, evalId, runId)
      if (!row) throw evalRunNotFound(runId)
      if (row.job_id && (row.status === 'queued' || row.status === 'in_progress')) await repos.jobs.requestCancel(row.job_id)
      await repos.evalRuns.delete(principal.projectId, runId)
    })
    return { object: 'eval.run.deleted', deleted: true, run_id: runId }
  }

  // spec: getEvalRunOutputItems
  async listOutputItems(
    principal: ProjectPrincipal,
    evalId: string,
    runId: string,
    query: OutputItemListQuery,
  ): Promise<ListPage<EvalRunOutputItem>> {
    await this.runRow(principal, evalId, runId)
    const rows = await this.repos().evalOutputItems.list(principal.projectId, runId, query)
    return toPage(rows.slice(0, query.limit).map(toOutputItemObject), rows.length > query.limit)
  }

  // spec: getEvalRunOutputItem
  async getOutputItem(principal: ProjectPrincipal, evalId: string, runId: string, id: string): Promise<EvalRunOutputItem> {
    await this.runRow(principal, evalId, runId)
    const row = await this.repos().evalOutputItems.get(principal.projectId, runId, id)
    if (!row) throw evalOutputItemNotFound(id)
    return toOutputItemObject(row)
  }

  /** The eval.run job's handler (jobs/eval-run.ts). */
  run(payload: EvalRunJobPayload, options: EvalRunOptions): Promise<void> {
    return this.executor.run(payload, options)
  }

  private async evalRow(principal: ProjectPrincipal, id: string) {
    const row = await this.repos().evals.get(principal.projectId, id)
    if (!row) throw evalNotFound(id)
    return row
  }

  private async runRow(principal: ProjectPrincipal, evalId: string, runId: string) {
    await this.evalRow(principal, evalId)
    const row = await this.repos().evalRuns.get(principal.projectId, evalId, runId)
    if (!row) throw evalRunNotFound(runId)
    return row
  }
}

/**
 * Graders this server cannot run are refused up front, naming the grader or metric: python
 * without a sandbox, cosine when the project's embedding model (vectorStores.embeddingModel) is
 * not served to it.
 */
function checkGraders(graders: GraderParam[], can: { python: boolean; cosine: boolean }) {
  graders.forEach((grader, i) => {
    if (grader.type === 'python' && !can.python) throw evalNotSupported("The 'python' grader", `testing_criteria[${i}].type`)
    if (grader.type === 'text_similarity' && grader.evaluation_metric === 'cosine' && !can.cosine) {
      throw evalNotSupported("The 'cosine' evaluation metric", `testing_criteria[${i}].evaluation_metric`)
    }
  })
}
