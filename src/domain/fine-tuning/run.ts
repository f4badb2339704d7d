import fs from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../errors.js'
import type { ProviderRegistry, ResolvedModel } from '../../providers/registry.js'
import type { RemoteFineTuning, RemoteJob } from '../../providers/remote-fine-tuning.js'
import type { TrainingCheckpoint, TrainingExample } from '../../providers/training-backend.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { FineTuningJobRow } from '../../storage/repositories/fine-tuning.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import { usageQueries, usageRow } from '../inference/usage.js'
import { addEvent } from './events.js'
import { resolveHyperparameters, totalSteps, type Requested } from './hyperparameters.js'
import { checkpointModelName, fineTunedModelName } from './names.js'
import type { FineTuningJobPayload } from './objects.js'
import { writeResultFile } from './results.js'
import type { FineTunedModels } from './serving.js'
import { checkTrainingFile, TrainingFileError, type FileKind } from './training-file.js'

export type RunDeps = {
  storage: Storage
  files: FilesService
  registry: ProviderRegistry
  models: FineTunedModels
  /** adapters live under <dataDir>/fine-tuning/<job id>/ */
  dataDir: string
  /** how a pause of this process reaches a training it runs at once (others poll the job's status) */
  pauses?: { track(id: string, controller: AbortController): () => void }
}

export type RunOptions = {
  signal: AbortSignal
  /** the last checkpoint saved by an earlier attempt (the runner job's progress) */
  progress: unknown
  setProgress(progress: unknown): Promise<void>
  attempt: number
  /** the runner job's id: a job resumed since is run by another one, and this one stops */
  runnerJobId?: string
}

/** What the runner job keeps between attempts: the last checkpoint, to resume from. */
type Progress = {
  checkpoint?: TrainingCheckpoint & { trainedTokens: number }
  remoteEventId?: string
  /** the checkpoint is where a pause stopped the training */
  paused?: boolean
}

/** How often a local training reads its job's status, to see a pause made on another node. */
const PAUSE_POLL_MS = 500
/** How long a resumed job waits for the runner that paused it to save its checkpoint. */
const PAUSED_RUNNER_WAIT_MS = 60_000

/** The job failed: the job's `error`; the runner job ends (retrying cannot help). */
export class FineTuningFailed extends Error {
  override name = 'FineTuningFailed'
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled'])

/**
 * The `fine_tuning.job.run` handler: checks the files, then trains locally (the base model's
 * provider's `train`) or creates the job at the upstream and mirrors it. Idempotent: a run after a
 * crash resumes from the last checkpoint (local) or from the upstream job already created.
 */
export class FineTuningRun {
  constructor(private readonly deps: RunDeps) {}

  async run(payload: FineTuningJobPayload, options: RunOptions): Promise<void> {
    const job = await this.job(payload)
    if (!job || ENDED.has(job.status)) return
    // resumed since: the job's runner is another one now
    if (options.runnerJobId && job.job_id && job.job_id !== options.runnerJobId) return
    if (payload.resumeOf && options.progress == null) {
      options = { ...options, progress: await this.pausedProgress(payload.resumeOf, options.signal) }
      if (options.progress != null) await options.setProgress(options.progress)
    }
    try {
      if (job.backend === 'upstream') await this.upstream(job, options)
      else await this.local(job, options)
    } catch (error) {
      if (options.signal.aborted) {
        // a cancel has already ended the job; a lost lease or a shutdown leaves it to a new run
        if ((await this.job(payload))?.status === 'cancelled') return
        throw options.signal.reason ?? error
      }
      if (error instanceof FineTuningFailed) return
      const failure = error instanceof TrainingFileError
        ? { code: error.code, message: error.message, param: error.param }
        : { code: 'server_error', message: `The job failed: ${error instanceof Error ? error.message : String(error)}`, param: null }
      await this.fail(job, failure)
    }
  }

  /** Fails a job that may still be unfinished (also the sweep's, for jobs whose runner gave up). */
  async fail(job: FineTuningJobRow, error: { code: string; message: string; param: string | null }) {
    await this.deps.storage.transaction(async (tx) => {
      const moved = await createRepos(tx.db).fineTuningJobs.updateRunning(job.project_id, job.id, {
        status: 'failed',
        error: JSON.stringify(error),
        finished_at: nowSeconds(),
        estimated_finish: null,
      })
      if (moved) await addEvent(tx, job, { level: 'error', message: error.message })
    })
  }

  /** The progress the runner that paused the job saved, once it has stopped (a pause ends it within a step). */
  private async pausedProgress(runnerJobId: string, signal: AbortSignal): Promise<unknown> {
    const repos = createRepos(this.deps.storage.db)
    const until = Date.now() + PAUSED_RUNNER_WAIT_MS
    for (;;) {
      const runner = await repos.jobs.get(runnerJobId)
      if (!runner || ENDED.has(runner.status) || Date.now() > until) return runner?.progress ? JSON.parse(runner.progress) : null
      await sleep(200, signal)
    }
  }

  private async job(payload: FineTuningJobPayload) {
    return createRepos(this.deps.storage.db).fineTuningJobs.get(payload.projectId, payload.fineTuningJobId)
  }

  private base(job: FineTuningJobRow): ResolvedModel {
    try {
      return this.deps.registry.resolve(job.model)
    } catch {
      throw new Error(`the base model ${job.model} is no longer served`)
    }
  }

  /** Reads and checks a file of the job (a missing one is a bad file, as at OpenAI). */
  private async examples(job: FineTuningJobRow, kind: FileKind, contextLength: number | undefined, signal: AbortSignal) {
    const id = kind === 'training_file' ? job.training_file : job.validation_file!
    let bytes: Buffer
    try {
      bytes = await this.deps.files.bytes(job.project_id, id)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404)
        throw new TrainingFileError(kind === 'training_file' ? 'invalid_training_file' : 'invalid_validation_file', `The job failed: the ${kind === 'training_file' ? 'training' : 'validation'} file ${id} no longer exists.`, kind)
      throw error
    }
    return checkTrainingFile(bytes.toString('utf8'), kind, { contextLength, signal })
  }

  private async local(job: FineTuningJobRow, options: RunOptions) {
    const { storage } = this.deps
    const base = this.base(job)
    const provider = base.provider
    if (!provider.train || !provider.trainable) throw new Error(`${job.model} can no longer be trained here`)
    const trainable = await provider.trainable(base.upstreamModel)
    if (!trainable.ok) throw new Error(trainable.reason)
    if (job.status === 'validating_files')
      await addEvent(storage, job, { message: `Validating training file: ${job.training_file}${job.validation_file ? `\nValidating validation file: ${job.validation_file}` : ''}` })
    const training = await this.examples(job, 'training_file', trainable.contextLength, options.signal)
    const validation = job.validation_file
      ? await this.examples(job, 'validation_file', trainable.contextLength, options.signal)
      : undefined
    const method = JSON.parse(job.method) as { type: string; supervised: { hyperparameters: Requested } }
    const hyper = resolveHyperparameters(method.supervised.hyperparameters, training.examples.length)
    const resolved = { n_epochs: hyper.nEpochs, batch_size: hyper.batchSize, learning_rate_multiplier: hyper.learningRateMultiplier }
    const steps = totalSteps(hyper, training.examples.length)
    const setMethod = JSON.stringify({ type: 'supervised', supervised: { hyperparameters: resolved } })
    if (job.status === 'validating_files') {
      await storage.transaction(async (tx) => {
        if (await createRepos(tx.db).fineTuningJobs.transition(job.project_id, job.id, ['validating_files'], { status: 'queued', method: setMethod }))
          await addEvent(tx, job, { message: 'Files validated, moving job to queued state' })
      })
    }
    const progress = (options.progress ?? {}) as Progress
    const resume = progress.checkpoint && fs.existsSync(progress.checkpoint.adapterPath) ? progress.checkpoint : undefined
    const started = Date.now()
    await storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if (await repos.fineTuningJobs.transition(job.project_id, job.id, ['queued', 'running'], { status: 'running', method: setMethod })) {
        if (resume) {
          // steps after the checkpoint run again: their first metrics go
          const later = (await repos.fineTuningEvents.metrics(job.id)).filter((e) => (JSON.parse(e.data ?? '{}').step ?? 0) > resume.step)
          await repos.fineTuningEvents.delete(later.map((e) => e.id))
          if (progress.paused) await addEvent(tx, job, { message: `Fine-tuning job resumed from step ${resume.step}` })
          else await addEvent(tx, job, { level: 'warn', message: `Resuming from the checkpoint at step ${resume.step} after a restart` })
        } else if (options.attempt > 1) {
          await addEvent(tx, job, { level: 'warn', message: 'Restarting the job from the beginning after a restart' })
        } else await addEvent(tx, job, { message: 'Fine-tuning job started' })
      }
    })
    // resumed after a pause: a crash from here on is a crash resume like any other
    if (progress.paused) await options.setProgress({ ...progress, paused: undefined } satisfies Progress)
    const current = await this.job({ fineTuningJobId: job.id, projectId: job.project_id })
    if (!current || current.status !== 'running') return
    const orgName = (await createRepos(storage.db).organizations.get(job.org_id))?.name ?? ''
    const ftName = fineTunedModelName(job.model, orgName, job.suffix, job.id)
    // earlier attempts' checkpoints stay servable
    for (const c of await createRepos(storage.db).fineTuningCheckpoints.forJob(job.id))
      this.deps.models.add({ id: c.fine_tuned_model_checkpoint, job, adapterPath: c.adapter_path, upstreamModel: null, created: c.created_at })
    const outDir = path.join(this.deps.dataDir, 'fine-tuning', job.id)
    fs.mkdirSync(outDir, { recursive: true })

    // events are written in order, off the trainer's callback
    let writes: Promise<unknown> = Promise.resolve()
    let lastEstimate = 0
    const onStep = (step: Parameters<Parameters<NonNullable<typeof provider.train>>[0]['onStep']>[0]) => {
      const data: Record<string, unknown> = { step: step.step, train_loss: step.trainLoss, total_steps: step.totalSteps }
      if (step.validLoss !== undefined) data.valid_loss = step.validLoss
      const message = `Step ${step.step}/${step.totalSteps}: training loss=${step.trainLoss.toFixed(4)}${step.validLoss !== undefined ? `, validation loss=${step.validLoss.toFixed(4)}` : ''}`
      const now = Date.now()
      const done = step.step - (resume?.step ?? 0)
      const estimate = done > 0 ? Math.round((now + ((now - started) / done) * (step.totalSteps - step.step)) / 1000) : null
      writes = writes.then(async () => {
        await addEvent(storage, job, { type: 'metrics', message, data })
        if (estimate !== null && now - lastEstimate > 1000) {
          lastEstimate = now
          await createRepos(storage.db).fineTuningJobs.updateRunning(job.project_id, job.id, { estimated_finish: estimate })
        }
      })
    }
    const onCheckpoint = async (checkpoint: TrainingCheckpoint) => {
      await writes
      const name = checkpointModelName(ftName, checkpoint.step)
      const metrics: Record<string, number> = { step: checkpoint.step, train_loss: checkpoint.trainLoss }
      if (checkpoint.validLoss !== undefined) Object.assign(metrics, { valid_loss: checkpoint.validLoss, full_valid_loss: checkpoint.validLoss })
      const created = nowSeconds()
      await storage.transaction(async (tx) => {
        const repos = createRepos(tx.db)
        if (await repos.fineTuningCheckpoints.byModel(name)) return
        await repos.fineTuningCheckpoints.insert({
          id: newId('ftckpt_'),
          fine_tuning_job_id: job.id,
          project_id: job.project_id,
          created_at: created,
          step_number: checkpoint.step,
          metrics: JSON.stringify(metrics),
          fine_tuned_model_checkpoint: name,
          adapter_path: checkpoint.adapterPath,
          upstream_model: null,
        })
        await addEvent(tx, job, { message: `Checkpoint created at step ${checkpoint.step} with Snapshot ID: ${name}` })
      })
      this.deps.models.add({ id: name, job, adapterPath: checkpoint.adapterPath, upstreamModel: null, created })
      await this.deps.models.announce()
      await options.setProgress({ checkpoint: { ...checkpoint, trainedTokens: 0 } } satisfies Progress)
    }
    void steps
    const pause = this.watchPause(job, options)
    let result
    try {
      result = await provider.train({
        model: base.upstreamModel,
        training: training.examples as TrainingExample[],
        validation: validation?.examples,
        hyperparameters: hyper,
        seed: job.seed,
        outDir,
        resumeFrom: resume,
        signal: options.signal,
        pause: pause.signal,
        onStep,
        onCheckpoint,
      })
    } finally {
      pause.stop()
    }
    await writes
    options.signal.throwIfAborted()
    if (result.paused) {
      const at = result.paused
      await options.setProgress({ checkpoint: { ...at, trainedTokens: result.trainedTokens }, paused: true } satisfies Progress)
      await addEvent(storage, job, { message: `Fine-tuning job paused at step ${at.step}; the training so far is kept, and a resume continues from there` })
      return
    }
    await this.succeed(job, { ftName, trainedTokens: result.trainedTokens, adapterPath: result.adapterPath, upstreamModel: null })
  }

  /**
   * A signal aborted when the job is paused: at once by a pause made in this process, else when
   * the status read every PAUSE_POLL_MS is no longer `running` (or another runner took it over).
   */
  private watchPause(job: FineTuningJobRow, options: RunOptions) {
    const controller = new AbortController()
    const untrack = this.deps.pauses?.track(job.id, controller)
    const timer = setInterval(() => {
      void this.job({ fineTuningJobId: job.id, projectId: job.project_id }).then((row) => {
        const superseded = options.runnerJobId && row?.job_id && row.job_id !== options.runnerJobId
        if (row?.status === 'paused' || superseded) controller.abort()
      }, () => {})
    }, PAUSE_POLL_MS)
    timer.unref?.()
    return {
      signal: controller.signal,
      stop() {
        clearInterval(timer)
        untrack?.()
      },
    }
  }

  /** The job's end: result file, usage, the model served. */
  private async succeed(job: FineTuningJobRow, end: { ftName: string; trainedTokens: number; adapterPath: string | null; upstreamModel: string | null }) {
    const { storage } = this.deps
    const current = await this.job({ fineTuningJobId: job.id, projectId: job.project_id })
    // a pause that came as the last step ended: the job is done all the same
    if (!current || (current.status !== 'running' && current.status !== 'paused')) return
    const results = await writeResultFile(storage, this.deps.files, current)
    const finished = nowSeconds()
    const usage = usageRow(
      { orgId: job.org_id, projectId: job.project_id, keyId: job.api_key_id ?? '', kind: 'project', permissions: { mode: 'all' } },
      { operation: 'fine_tuning', model: job.model, inputTokens: end.trainedTokens, outputTokens: 0, at: finished },
    )
    const moved = await storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const moved = await repos.fineTuningJobs.transition(job.project_id, job.id, ['running', 'paused'], {
        status: 'succeeded',
        fine_tuned_model: end.ftName,
        trained_tokens: end.trainedTokens,
        finished_at: finished,
        estimated_finish: null,
        result_files: JSON.stringify([results.id]),
        adapter_path: end.adapterPath,
        upstream_model: end.upstreamModel,
      })
      if (!moved) return false
      if (usage) {
        // the api key may have been deleted since: usage keeps its id as a plain value
        await tx.runBatch(usageQueries(tx, [usage]))
      }
      await addEvent(tx, job, { message: `New fine-tuned model created: ${end.ftName}`, at: finished })
      await addEvent(tx, job, { message: 'The job has successfully completed', at: finished })
      return true
    })
    if (!moved) return
    const served = await createRepos(storage.db).fineTuningJobs.get(job.project_id, job.id)
    this.deps.models.add({ id: end.ftName, job: served!, adapterPath: end.adapterPath, upstreamModel: end.upstreamModel, created: finished })
    // the other nodes serve it too
    await this.deps.models.announce()
  }

  private async upstream(job: FineTuningJobRow, options: RunOptions) {
    const base = this.base(job)
    const remote = base.provider.remoteFineTuning
    if (!remote) throw new Error(`${job.model} is no longer served by an upstream that fine-tunes`)
    let remoteId = job.upstream_job_id
    try {
      if (!remoteId) remoteId = await this.createRemote(job, base, remote, options.signal)
      await this.mirror(job, remote, remoteId, options)
    } catch (error) {
      const cancelled = options.signal.aborted && (await this.job({ fineTuningJobId: job.id, projectId: job.project_id }))?.status === 'cancelled'
      if (cancelled && remoteId) await remote.cancelJob(remoteId, AbortSignal.timeout(10_000)).catch(() => {})
      throw error
    }
  }

  private async createRemote(job: FineTuningJobRow, base: ResolvedModel, remote: RemoteFineTuning, signal: AbortSignal) {
    const upload = async (id: string) => {
      const bytes = await this.deps.files.bytes(job.project_id, id)
      return (await remote.uploadFile(`${id}.jsonl`, bytes, signal)).id
    }
    const method = JSON.parse(job.method) as { type: string } & Record<string, { hyperparameters?: Record<string, unknown> }>
    const body: Record<string, unknown> = {
      model: base.upstreamModel,
      training_file: await upload(job.training_file),
      seed: job.seed,
      method,
    }
    if (job.validation_file) body.validation_file = await upload(job.validation_file)
    if (job.suffix) body.suffix = job.suffix
    const integrations = job.integrations ? JSON.parse(job.integrations) : []
    if (integrations.length) body.integrations = integrations
    if (job.metadata) body.metadata = JSON.parse(job.metadata)
    const created = await remote.createJob(body, signal)
    await createRepos(this.deps.storage.db).fineTuningJobs.update(job.project_id, job.id, { upstream_job_id: created.id })
    await addEvent(this.deps.storage, job, { message: `Created the job at the upstream: ${created.id}` })
    return created.id
  }

  /** Polls the upstream job until it ends, mirroring status, events and checkpoints. */
  private async mirror(job: FineTuningJobRow, remote: RemoteFineTuning, remoteId: string, options: RunOptions) {
    const { storage } = this.deps
    const progress = { ...((options.progress ?? {}) as Progress) }
    const orgName = (await createRepos(storage.db).organizations.get(job.org_id))?.name ?? ''
    const ftName = fineTunedModelName(job.model, orgName, job.suffix, job.id)
    for (;;) {
      options.signal.throwIfAborted()
      const state = await remote.getJob(remoteId, options.signal)
      // events, oldest first, those not mirrored yet
      const events = await remote.listEvents(remoteId, options.signal)
      const seen = events.findIndex((e) => e.id === progress.remoteEventId)
      const fresh = (seen === -1 ? events : events.slice(0, seen)).reverse()
      for (const e of fresh) {
        await addEvent(storage, job, { level: e.level, message: e.message, type: e.type ?? 'message', data: e.data ?? undefined, at: e.created_at })
        progress.remoteEventId = e.id
      }
      if (fresh.length) await options.setProgress(progress)
      for (const c of await remote.listCheckpoints(remoteId, options.signal)) {
        const name = checkpointModelName(ftName, c.step_number)
        const repos = createRepos(storage.db)
        if (await repos.fineTuningCheckpoints.byModel(name)) continue
        await repos.fineTuningCheckpoints.insert({
          id: newId('ftckpt_'),
          fine_tuning_job_id: job.id,
          project_id: job.project_id,
          created_at: c.created_at,
          step_number: c.step_number,
          metrics: JSON.stringify(c.metrics ?? {}),
          fine_tuned_model_checkpoint: name,
          adapter_path: null,
          upstream_model: c.fine_tuned_model_checkpoint,
        })
        this.deps.models.add({ id: name, job, adapterPath: null, upstreamModel: c.fine_tuned_model_checkpoint, created: c.created_at })
        await this.deps.models.announce()
      }
      if (await this.mirrorStatus(job, state, ftName)) return
      await sleep(remote.pollMs, options.signal)
    }
  }

  /** True once the upstream job ended and its end is mirrored. */
  private async mirrorStatus(job: FineTuningJobRow, state: RemoteJob, ftName: string): Promise<boolean> {
    const repos = createRepos(this.deps.storage.db)
    const hyper = state.hyperparameters
    const method = state.method ?? (hyper ? { type: 'supervised', supervised: { hyperparameters: hyper } } : undefined)
    const set = { ...(method ? { method: JSON.stringify(method) } : {}), estimated_finish: state.estimated_finish ?? null }
    if (state.status === 'validating_files' || state.status === 'queued' || state.status === 'running' || state.status === 'paused') {
      await repos.fineTuningJobs.updateRunning(job.project_id, job.id, { ...set, status: state.status })
      return false
    }
    if (state.status === 'succeeded') {
      await repos.fineTuningJobs.updateRunning(job.project_id, job.id, { ...set, status: 'running' })
      await this.succeed(job, { ftName, trainedTokens: state.trained_tokens ?? 0, adapterPath: null, upstreamModel: state.fine_tuned_model })
      return true
    }
    if (state.status === 'cancelled') {
      await repos.fineTuningJobs.updateRunning(job.project_id, job.id, { status: 'cancelled', finished_at: nowSeconds(), estimated_finish: null })
      return true
    }
    // a status between two (an upstream's 'pausing', say) changes nothing until it settles
    if (state.status !== 'failed' && !state.error) return false
    await this.fail(job, state.error ?? { code: 'server_error', message: 'The job failed at the upstream.', param: null })
    return true
  }
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms)
    function done() {
      signal.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', abort, { once: true })
  })
}
