// first: every regexp of the process, user patterns included, gets the backtracking limit
import './regexp-guard.js'
import { checkReadiness, type Readiness } from './domain/readiness.js'
import type { Config } from './config/schema.js'
import { blobsDir } from './config/blobs-dir.js'
import { createAssistantsServices, type AssistantsServices } from './domain/assistants/index.js'
import { BatchesService } from './domain/batches/service.js'
import { EvalsService } from './domain/evals/service.js'
import { GradersService } from './domain/fine-tuning/graders.js'
import { ChatService } from './domain/inference/chat.js'
import { EphemeralKeys } from './domain/realtime/ephemeral.js'
import { CompletionsService } from './domain/inference/completions.js'
import { EmbeddingsService } from './domain/inference/embeddings.js'
import { ModerationsService } from './domain/inference/moderations.js'
import { ImagesService } from './domain/images/service.js'
import { ImageStore, imageUrlSecret } from './domain/images/store.js'
import { UsageRecorder } from './domain/inference/usage.js'
import { ModelsService } from './domain/inference/models.js'
import { StoredCompletions } from './domain/chat-store/service.js'
import { FilesService } from './domain/files/service.js'
import { bootstrapOrganization, type BootstrapResult } from './domain/organization/bootstrap.js'
import { createAdminServices, type AdminServices } from './domain/organization/index.js'
import { KeysService } from './domain/organization/keys.js'
import { LimitsService } from './domain/limits/service.js'
import { SpendTracker } from './domain/limits/spend.js'
import { SpendAdmin } from './domain/limits/spend-admin.js'
import { UsageReports } from './domain/usage/reports.js'
import { createRateLimiter, type RateLimiter } from './storage/limits/index.js'
import { UploadsService } from './domain/uploads/service.js'
import { modelAllowed } from './principal.js'
import { registerBatchJobs } from './jobs/batch-run.js'
import { registerEvalJobs } from './jobs/eval-run.js'
import { registerResponseJobs } from './jobs/response-run.js'
import { registerRunJobs } from './jobs/thread-run.js'
import { registerVectorStoreJobs } from './jobs/vector-stores.js'
import { registerFineTuningJobs } from './jobs/fine-tuning.js'
import { createFineTuning, type FineTuningServices } from './domain/fine-tuning/index.js'
import { createRetrievalServices, type RetrievalServices } from './domain/retrieval/index.js'
import { bootLog } from './logger.js'
import { createJobs, type Jobs, type JobsOptions } from './jobs/index.js'
import { ProviderRegistry } from './providers/registry.js'
import { SandboxPool, type Sandbox } from './sandbox/index.js'
import { ContainersService } from './domain/containers/service.js'
import { createToolRegistry } from './domain/tools/index.js'
import type { BlobStore } from './storage/blobs/blob-store.js'
import { DiskBlobStore } from './storage/blobs/disk.js'
import { createVectorIndex, storageConfigFor } from './storage/dialect.js'
import { openStorage, type Storage } from './storage/storage.js'
import type { RelayChannel } from './storage/change-feed.js'
import { ResponsesService } from './domain/responses/service.js'
import { ResponsesStore } from './domain/responses/store.js'
import { RequestLog } from './request-log.js'

/** The composition root: everything a request or a job needs, built once at boot. */
export type AppContext = {
  config: Config
  storage: Storage
  /** File bytes: blobs.dir, default <dataDir>/blobs */
  blobs: BlobStore
  providers: ProviderRegistry
  organization: BootstrapResult['organization']
  bootstrap: BootstrapResult
  /** Background jobs: features register kinds in jobs.catalog; serve() starts the runner. */
  jobs: Jobs
  /** The code interpreter's Python sandbox (sessions per thread; nothing starts until used). */
  sandbox: Sandbox
  services: {
    keys: KeysService
    /** The Administration API: users, invites, projects, service accounts, keys, audit logs. */
    admin: AdminServices
    usage: UsageRecorder
    chat: ChatService
    completions: CompletionsService
    embeddings: EmbeddingsService
    /** POST /v1/moderations: the lexicon, a judge chat model, or an upstream. */
    moderations: ModerationsService
    /** The Images API: generations, edits, variations and their signed URLs (docs/images.md). */
    images: ImagesService
    storedCompletions: StoredCompletions
    /** The Responses API: a chat call beneath, its responses and items stored. */
    responses: ResponsesService
    models: ModelsService
    files: FilesService
    uploads: UploadsService
    batches: BatchesService
    /** Rate limits per project and model: enforcement and the admin API's limits. */
    limits: LimitsService
    /** Spend limits and alerts: the admin API (the tracker itself is `limits.spend`). */
    spend: SpendAdmin
    /** The usage and costs endpoints, from the rollups. */
    usageReports: UsageReports
    /** The Assistants API (v1 and v2): assistants, threads, messages, runs. */
    assistants: AssistantsServices
    /** Vector stores, their ingestion and search (file_search searches through `retrieval`). */
    retrieval: RetrievalServices
    /** Fine-tuning jobs (local trainers and upstreams), checkpoints, permissions, served models. */
    fineTuning: FineTuningServices
    /** The Evals API: evals, runs (eval.run jobs on the chat service) and output items. */
    evals: EvalsService
    /** fineTuning.alpha.graders: the Evals graders on one sample (run, validate). */
    graders: GradersService
    /** The Realtime API's ephemeral client secrets (docs/realtime.md). */
    realtime: EphemeralKeys
    /** The Containers API: code interpreter sessions and their files (docs/code-interpreter.md). */
    containers: ContainersService
  }
  /** GET /ready: database, Redis (when used) and the job runner (domain/readiness.ts). */
  readiness(): Promise<Readiness>
  /** The dashboard's request log: this node's last API requests, in memory (request-log.ts). */
  requestLog: RequestLog
  close(): Promise<void>
}

export async function createContext(config: Config, options: { storage?: Storage; env?: Record<string, string | undefined>; jobs?: JobsOptions; sandbox?: Sandbox; limiter?: RateLimiter; changeRelay?: RelayChannel } = {}): Promise<AppContext> {
  const storage = options.storage ?? (await openStorage(storageConfigFor(config.databaseUrl, config.dataDir, config.databaseQueryTimeoutMs), { changeRelay: options.changeRelay }))
  let providers: ProviderRegistry
  try {
    providers = await ProviderRegistry.create(config, options.env)
  } catch (error) {
    await storage.close()
    throw error
  }
  const bootstrap = await bootstrapOrganization(storage, config)
  // one instance: the admin services clear its principal cache when they revoke anything
  const keys = new KeysService(storage, config.changes.maxStaleMs, config.server.clientCertificateHeader !== undefined)
  const usage = new UsageRecorder(storage)
  // a worker of `plinth serve --workers N` without Redis asks the primary (storage/limits/ipc.ts)
  const limiter = options.limiter ?? (await createRateLimiter(config.rateLimits))
  const spend = new SpendTracker(storage, config.pricing, () => usage.settled())
  usage.onFlushed = (rows) => spend.flushed(rows)
  await spend.start()
  const limits = new LimitsService(storage, limiter, config.rateLimits, providers, config.changes.maxStaleMs, spend)
  const storedCompletions = new StoredCompletions(storage)
  const leaseMs = config.jobs.leaseSeconds ? config.jobs.leaseSeconds * 1000 : undefined
  const jobs = createJobs(storage, { leaseMs, ...options.jobs })
  const blobs = await DiskBlobStore.open(blobsDir(config))
  const files = new FilesService(storage, blobs, config.files)
  // what a crash left half-written (and what expired while the server was down) goes first
  await files.sweepExpired()
  // and then every few minutes, by the leader (the runner starts in serve())
  jobs.leader.register({
    name: 'files.sweep',
    everyMs: 5 * 60_000,
    run: async () => void (await files.sweepExpired()),
  })
  const imageStore = new ImageStore(blobs, imageUrlSecret(config.dataDir), config.images.urlTtlSeconds)
  const images = new ImagesService(providers, usage, imageStore)
  jobs.leader.register({ name: 'images.sweep', everyMs: 10 * 60_000, run: async () => void (await images.sweep()) })
  // the live endpoints' services: batch lines run through them too
  const inference = {
    chat: new ChatService(providers, usage, storedCompletions),
    completions: new CompletionsService(providers, usage),
    embeddings: new EmbeddingsService(providers, usage),
  }
  const moderations = new ModerationsService(providers, usage, inference.chat, config.moderation.judgeModel)
  const batches = new BatchesService(
    {
      storage,
      files,
      // the Responses service comes later (it needs the built-in tools): reached when a line runs
      inference: { ...inference, moderations, responses: { create: (...args) => responses.create(...args) } },
      hasModel: (id, policy) => providers.usable(id, policy),
      limits: config.batches,
      // batch_1_day_max_input_tokens, charged when a batch is queued
      enqueuedTokens: {
        limitFor: async (projectId, model) =>
          config.rateLimits.enabled
            ? (await limits.limitsFor(projectId, model)).batch_1_day_max_input_tokens
            : undefined,
        reserve: (principal, model, tokens) => limits.reserveBatchTokens(principal, model, tokens),
      },
    },
    () => jobs.wake(),
  )
  registerBatchJobs(jobs, batches)
  const sandbox = options.sandbox ?? new SandboxPool(config.codeInterpreter)
  const { dataBytes, idleTimeoutMs } = config.codeInterpreter
  const index = createVectorIndex(storage.dialect)
  const indexStatus = await index.prepare(storage.db)
  if (!indexStatus.ready) {
    // Plinth serves everything else; vector store requests answer 503 with the same reason
    bootLog.warn(`vector stores are unavailable: ${indexStatus.reason}`)
  }
  const retrieval = createRetrievalServices({
    storage,
    blobs,
    index,
    providers,
    config: config.vectorStores,
    usage,
    chat: inference.chat,
    wake: () => jobs.wake(),
  })
  registerVectorStoreJobs(jobs, retrieval)
  const { containerMinutes, containerMinuteMs } = config.codeInterpreter
  const containers = new ContainersService(storage, blobs, files, sandbox, { minutes: containerMinutes, minuteMs: containerMinuteMs, maxPlacedBytes: dataBytes })
  // expired containers' files go even when no one reads them again
  jobs.leader.register({ name: 'containers.sweep', everyMs: 5 * 60_000, run: async () => void (await containers.sweep()) })
  const tools = createToolRegistry({
    sandbox,
    files,
    maxInputBytes: dataBytes,
    idleTimeoutMs,
    containers,
    retrieval: retrieval.retrieval,
  })
  const assistants = createAssistantsServices({
    storage,
    vectorStores: {
      exists: (tx, projectId, id) => retrieval.vectorStores.exists(tx, projectId, id),
      create: (tx, projectId, helper) => retrieval.vectorStores.createFromHelper(tx, projectId, helper),
      add: (tx, projectId, id, fileIds) => retrieval.vectorStores.addFromMessage(tx, projectId, id, fileIds),
    },
    hasModel: (principal, model) => providers.has(model) && modelAllowed(principal.models, model),
    isChatModel: (model) => providers.resolve(model).card.capabilities.chat,
    chat: inference.chat,
    wake: () => jobs.wake(),
    tools,
    contextOf: (model) => (providers.has(model) ? providers.resolve(model).card.contextLength : undefined),
  })
  registerRunJobs(jobs, assistants.executor, storage)
  const fineTuning = createFineTuning({ storage, files, registry: providers, dataDir: config.dataDir, wake: () => jobs.wake() })
  registerFineTuningJobs(jobs, fineTuning)
  // the fine-tuned models of earlier runs are served again
  await fineTuning.models.restore()
  const responses = new ResponsesService({ store: new ResponsesStore(storage), providers, chat: inference.chat, files, wake: () => jobs.wake(), tools, usage, containers })
  registerResponseJobs(jobs, responses)
  const evals = new EvalsService({
    storage,
    files,
    chat: inference.chat,
    sandbox,
    embeddings: inference.embeddings,
    // cosine similarity embeds with the model the project's vector stores use
    embeddingModel: (projectId) => config.vectorStores.projectEmbeddingModels[projectId] ?? config.vectorStores.embeddingModel,
    hasModel: (id, policy) => providers.usable(id, policy),
    wake: () => jobs.wake(),
    // a run's model calls count against the project's rate limits, as live requests do
    limits,
    concurrency: config.evals.concurrency,
  })
  registerEvalJobs(jobs, evals)
  const graders = new GradersService({
    chat: inference.chat,
    usage,
    sandbox,
    embeddings: inference.embeddings,
    embeddingModel: (projectId) => config.vectorStores.projectEmbeddingModels[projectId] ?? config.vectorStores.embeddingModel,
    hasModel: (id, policy) => providers.usable(id, policy),
  })
  return {
    config,
    storage,
    blobs,
    providers,
    organization: bootstrap.organization,
    bootstrap,
    jobs,
    sandbox,
    services: {
      keys,
      admin: createAdminServices(storage, keys),
      usage,
      ...inference,
      moderations,
      images,
      storedCompletions,
      responses,
      models: new ModelsService(providers, (principal, id) => fineTuning.service.deleteModel(principal, id)),
      files,
      uploads: new UploadsService(storage, blobs, files),
      batches,
      limits,
      spend: new SpendAdmin(storage, spend),
      usageReports: new UsageReports(storage, config.pricing, usage),
      assistants,
      retrieval,
      fineTuning,
      evals,
      graders,
      realtime: new EphemeralKeys(storage, keys),
      containers,
    },
    readiness: () => checkReadiness({ storage, limiter, jobsRunning: () => jobs.running() }),
    requestLog: new RequestLog(config.dashboard.requestLogSize),
    async close() {
      // first: jobs in flight may still record usage and need providers and storage
      await jobs.destroy()
      await sandbox.close()
      await retrieval.close()
      await responses.store.drain()
      await usage.flush()
      spend.stop()
      await providers.close()
      await limiter.close()
      await storage.close()
    },
  }
}
