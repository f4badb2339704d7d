import type { Config } from '../../config/schema.js'
import {
  ApiError,
  fileBatchNotCancellable,
  fileBatchNotFound,
  fileNotFound,
  invalidRequest,
  vectorIndexUnavailable,
  vectorStoreExpired,
  vectorStoreFileNotFound,
  vectorStoreNotFound,
} from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { VectorStoreHelper } from '../../schemas/assistants.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import type {
  Attributes,
  ChunkingStrategyParam,
  FileBatchCreateParams,
  VectorStore,
  VectorStoreCreateParams,
  VectorStoreFile,
  VectorStoreFileBatch,
  VectorStoreFileContent,
  VectorStoreFileCreateParams,
  VectorStoreFileListQuery,
  VectorStoreListQuery,
  VectorStoreSearchPage,
  VectorStoreSearchParams,
  VectorStoreUpdateParams,
} from '../../schemas/vector-stores.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { VectorStoreFileRow, VectorStoreRow } from '../../storage/repositories/vector-stores.js'
import type { Storage } from '../../storage/storage.js'
import type { VectorIndex } from '../../storage/vector-index/vector-index.js'
import { AUTO_CHUNKING, resolveChunking, type Chunking } from './chunking.js'
import type { Embedder } from './embedder.js'
import { enqueuePurge } from './ingest.js'
import {
  INGEST_JOB,
  isExpired,
  toFileBatchObject,
  toVectorStoreFileObject,
  toVectorStoreObject,
  type IngestPayload,
} from './objects.js'
import type { Retrieval } from './search.js'
import type { UsageRecorder } from '../inference/usage.js'

export type VectorStoresDeps = {
  storage: Storage
  index: VectorIndex
  embedder: Embedder
  retrieval: Retrieval
  /** bills a search's query embedding and rewrite */
  usage: Pick<UsageRecorder, 'record'>
  config: Config['vectorStores']
  /** polls the job runner now (context.ts passes jobs.wake) */
  wake?: () => void
}

/** Chunks per page of the file content endpoint (the SDK reads one page: all of a file's chunks). */
const CONTENT_PAGE = 10_000

/**
 * The Vector stores API: stores, the files in them (each ingested by a `vector_store.file.ingest`
 * job enqueued in the transaction that attaches it), file batches and search. Counts, bytes and
 * statuses are read from the files' rows, so they are always what the files say.
 */
export class VectorStoresService {
  constructor(private readonly deps: VectorStoresDeps) {}

  // spec: createVectorStore
  async create(principal: ProjectPrincipal, params: VectorStoreCreateParams): Promise<VectorStore> {
    this.ready()
    const chunking = resolveChunking(params.chunking_strategy, 'chunking_strategy')
    const model = this.embeddingModel(principal.projectId)
    const fileIds = [...new Set(params.file_ids ?? [])]
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const files = await this.files(repos, principal.projectId, fileIds)
      const row = this.newStore(principal.projectId, principal.orgId, model, {
        name: params.name ?? '',
        description: params.description ?? null,
        metadata: params.metadata ? JSON.stringify(params.metadata) : null,
        expiresAfterDays: params.expires_after?.days ?? null,
        chunking: params.chunking_strategy ?? null,
      })
      await repos.vectorStores.insert(row)
      for (const file of files) await this.attach(repos, row, file, chunking, null, null)
      return row
    })
    this.deps.wake?.()
    return this.object(row)
  }

  // spec: listVectorStores
  async list(principal: ProjectPrincipal, query: VectorStoreListQuery): Promise<ListPage<VectorStore>> {
    this.ready()
    const repos = createRepos(this.deps.storage.db)
    const page = await repos.vectorStores.list(principal.projectId, query)
    const tallies = await repos.vectorStoreFiles.tallyByStore(page.rows.map((r) => r.id))
    const now = nowSeconds()
    return toPage(page.rows.map((r) => toVectorStoreObject(r, tallies.get(r.id), now)), page.hasMore)
  }

  // spec: getVectorStore
  async get(principal: ProjectPrincipal, id: string): Promise<VectorStore> {
    this.ready()
    return this.object(await this.store(principal.projectId, id))
  }

  // spec: modifyVectorStore
  async update(principal: ProjectPrincipal, id: string, params: VectorStoreUpdateParams): Promise<VectorStore> {
    this.ready()
    const store = await this.store(principal.projectId, id)
    const set: Partial<VectorStoreRow> = {}
    if (params.name !== undefined) set.name = params.name ?? ''
    if (params.metadata !== undefined) set.metadata = params.metadata ? JSON.stringify(params.metadata) : null
    if (params.expires_after !== undefined && !isExpired(store, nowSeconds())) {
      set.expires_after_days = params.expires_after?.days ?? null
      set.expires_at = params.expires_after ? store.last_active_at + params.expires_after.days * 86400 : null
    }
    if (Object.keys(set).length) await createRepos(this.deps.storage.db).vectorStores.update(store.project_id, id, set)
    return this.object({ ...store, ...set })
  }

  // spec: deleteVectorStore
  async delete(principal: ProjectPrincipal, id: string) {
    this.ready()
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      // the store goes at once; its files, batches and chunks go in the background (purge job)
      if (!(await repos.vectorStores.delete(principal.projectId, id))) throw vectorStoreNotFound(id)
      await enqueuePurge(repos, id)
    })
    this.deps.wake?.()
    return { id, object: 'vector_store.deleted' as const, deleted: true }
  }

  // spec: createVectorStoreFile
  async createFile(principal: ProjectPrincipal, storeId: string, params: VectorStoreFileCreateParams): Promise<VectorStoreFile> {
    this.ready()
    const store = await this.usableStore(principal.projectId, storeId)
    const chunking = resolveChunking(params.chunking_strategy, 'chunking_strategy', this.storeChunking(store))
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const [file] = await this.files(repos, store.project_id, [params.file_id])
      const row = await this.attach(repos, store, file, chunking, params.attributes ?? null, null)
      await repos.vectorStores.touch(store.project_id, store.id, nowSeconds())
      return row
    })
    this.deps.wake?.()
    return toVectorStoreFileObject(row)
  }

  // spec: listVectorStoreFiles
  async listFiles(principal: ProjectPrincipal, storeId: string, query: VectorStoreFileListQuery): Promise<ListPage<VectorStoreFile>> {
    this.ready()
    await this.store(principal.projectId, storeId)
    const page = await createRepos(this.deps.storage.db).vectorStoreFiles.list(storeId, { ...query, status: query.filter })
    return toPage(page.rows.map(toVectorStoreFileObject), page.hasMore)
  }

  // spec: getVectorStoreFile
  async getFile(principal: ProjectPrincipal, storeId: string, fileId: string): Promise<VectorStoreFile> {
    this.ready()
    return toVectorStoreFileObject(await this.attachment(principal.projectId, storeId, fileId))
  }

  // spec: updateVectorStoreFileAttributes
  async updateFile(principal: ProjectPrincipal, storeId: string, fileId: string, attributes: Attributes | null): Promise<VectorStoreFile> {
    this.ready()
    const row = await this.attachment(principal.projectId, storeId, fileId)
    const value = attributes ? JSON.stringify(attributes) : null
    // searches filter on the file's row, so the new attributes hold for every chunk at once
    await createRepos(this.deps.storage.db).vectorStoreFiles.update(row.id, { attributes: value })
    return toVectorStoreFileObject({ ...row, attributes: value })
  }

  // spec: deleteVectorStoreFile
  async deleteFile(principal: ProjectPrincipal, storeId: string, fileId: string) {
    this.ready()
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await this.attachment(principal.projectId, storeId, fileId, repos)
      // an ingestion in flight sees the row gone before its next write (ingest.ts locks it)
      await repos.vectorStoreFiles.delete(row.id)
      await enqueuePurge(repos, storeId, row.id)
    })
    this.deps.wake?.()
    return { id: fileId, object: 'vector_store.file.deleted' as const, deleted: true }
  }

  // spec: retrieveVectorStoreFileContent
  async fileContent(principal: ProjectPrincipal, storeId: string, fileId: string): Promise<VectorStoreFileContent> {
    this.ready()
    const row = await this.attachment(principal.projectId, storeId, fileId)
    const chunks = await this.deps.index.chunks(this.deps.storage.db, row.id, 0, CONTENT_PAGE + 1)
    return {
      object: 'vector_store.file_content.page',
      data: chunks.slice(0, CONTENT_PAGE).map((c) => ({ type: 'text' as const, text: c.text })),
      has_more: chunks.length > CONTENT_PAGE,
      next_page: null,
    }
  }

  // spec: createVectorStoreFileBatch
  async createBatch(principal: ProjectPrincipal, storeId: string, params: FileBatchCreateParams): Promise<VectorStoreFileBatch> {
    this.ready()
    if (params.file_ids && params.files) {
      throw invalidRequest("Invalid request: provide either 'file_ids' or 'files', not both.", 'files', 'invalid_value')
    }
    if (!params.file_ids && !params.files) {
      throw invalidRequest("Missing required parameter: 'file_ids'.", 'file_ids', 'missing_required_parameter')
    }
    const store = await this.usableStore(principal.projectId, storeId)
    const fallback = this.storeChunking(store)
    const entries = params.files
      ? params.files.map((f, i) => ({
          fileId: f.file_id,
          chunking: resolveChunking(f.chunking_strategy, `files[${i}].chunking_strategy`, fallback),
          attributes: f.attributes ?? null,
        }))
      : (() => {
          const chunking = resolveChunking(params.chunking_strategy, 'chunking_strategy', fallback)
          return params.file_ids!.map((fileId) => ({ fileId, chunking, attributes: params.attributes ?? null }))
        })()
    const batch = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const files = await this.files(repos, store.project_id, entries.map((e) => e.fileId))
      const now = nowSeconds()
      const batch = {
        id: newId('vsfb_'),
        vector_store_id: store.id,
        project_id: store.project_id,
        created_at: now,
        status: 'in_progress' as const,
        cancelled_at: null,
      }
      await repos.vectorStoreFileBatches.insert(batch)
      const seen = new Set<string>()
      for (const [i, entry] of entries.entries()) {
        if (seen.has(entry.fileId)) continue
        seen.add(entry.fileId)
        await this.attach(repos, store, files[i], entry.chunking, entry.attributes, batch.id)
      }
      await repos.vectorStores.touch(store.project_id, store.id, now)
      return batch
    })
    this.deps.wake?.()
    return this.batchObject(batch)
  }

  // spec: getVectorStoreFileBatch
  async getBatch(principal: ProjectPrincipal, storeId: string, batchId: string): Promise<VectorStoreFileBatch> {
    this.ready()
    await this.store(principal.projectId, storeId)
    const row = await createRepos(this.deps.storage.db).vectorStoreFileBatches.get(storeId, batchId)
    if (!row) throw fileBatchNotFound(batchId, storeId)
    return this.batchObject(row)
  }

  // spec: cancelVectorStoreFileBatch
  async cancelBatch(principal: ProjectPrincipal, storeId: string, batchId: string): Promise<VectorStoreFileBatch> {
    this.ready()
    await this.store(principal.projectId, storeId)
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await repos.vectorStoreFileBatches.get(storeId, batchId)
      if (!row) throw fileBatchNotFound(batchId, storeId)
      if (row.status === 'cancelled') return row
      const current = toFileBatchObject(row, (await repos.vectorStoreFiles.tallyByBatch([batchId])).get(batchId))
      if (current.status !== 'in_progress') throw fileBatchNotCancellable(current.status)
      const now = nowSeconds()
      await repos.vectorStoreFileBatches.cancel(storeId, batchId, now)
      // files not done yet stop; what they indexed so far is purged
      for (const file of await repos.vectorStoreFiles.cancelBatch(batchId)) await enqueuePurge(repos, storeId, file.id)
      return { ...row, status: 'cancelled' as const, cancelled_at: now }
    })
    this.deps.wake?.()
    return this.batchObject(row)
  }

  // spec: listFilesInVectorStoreBatch
  async listBatchFiles(
    principal: ProjectPrincipal,
    storeId: string,
    batchId: string,
    query: VectorStoreFileListQuery,
  ): Promise<ListPage<VectorStoreFile>> {
    this.ready()
    await this.store(principal.projectId, storeId)
    const repos = createRepos(this.deps.storage.db)
    if (!(await repos.vectorStoreFileBatches.get(storeId, batchId))) throw fileBatchNotFound(batchId, storeId)
    const page = await repos.vectorStoreFiles.list(storeId, { ...query, status: query.filter, batchId })
    return toPage(page.rows.map(toVectorStoreFileObject), page.hasMore)
  }

  // spec: searchVectorStore
  async search(principal: ProjectPrincipal, storeId: string, params: VectorStoreSearchParams): Promise<VectorStoreSearchPage> {
    this.ready()
    const found = await this.deps.retrieval.search(principal, [storeId], params.query, {
      maxNumResults: params.max_num_results ?? 10,
      filters: params.filters,
      scoreThreshold: params.ranking_options?.score_threshold ?? 0,
      rewriteQuery: params.rewrite_query ?? false,
    })
    // the answer does not wait for the rows (UsageRecorder)
    for (const entry of found.usage) void this.deps.usage.record(principal, entry)
    return {
      object: 'vector_store.search_results.page',
      search_query: found.searchQuery,
      data: found.results.map((r) => ({
        file_id: r.fileId,
        filename: r.filename,
        score: r.score,
        attributes: r.attributes ?? {},
        content: [{ type: 'text' as const, text: r.text }],
      })),
      has_more: false,
      next_page: null,
    }
  }

  /** Whether a store exists in the project (assistants' tool_resources check it). */
  async exists(storage: Storage, projectId: string, id: string): Promise<boolean> {
    return !!(await createRepos(storage.db).vectorStores.get(projectId, id))
  }

  /**
   * The `vector_stores` helper of assistants and threads: a store made of the files, in the
   * caller's transaction. The caller wakes the job runner once it commits (or the runner's next
   * poll finds the ingestion jobs).
   */
  async createFromHelper(storage: Storage, projectId: string, helper: VectorStoreHelper): Promise<string> {
    this.ready()
    const repos = createRepos(storage.db)
    const project = await repos.projects.get(projectId)
    const chunking = resolveChunking(helper.chunking_strategy as ChunkingStrategyParam | undefined, 'tool_resources.file_search.vector_stores[0].chunking_strategy')
    const files = await this.files(repos, projectId, [...new Set(helper.file_ids ?? [])])
    const row = this.newStore(projectId, project?.org_id ?? '', this.embeddingModel(projectId), {
      name: '',
      description: null,
      metadata: helper.metadata ? JSON.stringify(helper.metadata) : null,
      expiresAfterDays: null,
      chunking: (helper.chunking_strategy as ChunkingStrategyParam | undefined) ?? null,
    })
    await repos.vectorStores.insert(row)
    for (const file of files) await this.attach(repos, row, file, chunking, null, null)
    setImmediate(() => this.deps.wake?.())
    return row.id
  }

  /**
   * Message attachments for file_search: the files join the thread's store, in `storage`'s
   * transaction. False when that store is gone (deleted, expired): the caller makes a new one.
   */
  async addFromMessage(storage: Storage, projectId: string, storeId: string, fileIds: string[]): Promise<boolean> {
    this.ready()
    const repos = createRepos(storage.db)
    const store = await repos.vectorStores.get(projectId, storeId)
    if (!store || isExpired(store, nowSeconds())) return false
    const chunking = this.storeChunking(store)
    for (const file of await this.files(repos, projectId, [...new Set(fileIds)])) {
      await this.attach(repos, store, file, chunking, null, null)
    }
    setImmediate(() => this.deps.wake?.())
    return true
  }

  /** Answers 503, naming what to install, when the vector index is missing. */
  private ready() {
    const status = this.deps.index.status()
    if (!status.ready) throw vectorIndexUnavailable(status.reason)
  }

  private embeddingModel(projectId: string): string {
    const model = this.deps.config.projectEmbeddingModels[projectId] ?? this.deps.config.embeddingModel
    try {
      this.deps.embedder.check(model)
    } catch (error) {
      const detail = error instanceof ApiError ? error.message : String(error)
      throw vectorIndexUnavailable(`the embedding model '${model}' configured for vector stores cannot embed (${detail})`)
    }
    return model
  }

  private newStore(
    projectId: string,
    orgId: string,
    model: string,
    given: {
      name: string
      description: string | null
      metadata: string | null
      expiresAfterDays: number | null
      chunking: ChunkingStrategyParam | null
    },
  ): VectorStoreRow {
    const now = nowSeconds()
    return {
      id: newId('vs_'),
      project_id: projectId,
      org_id: orgId,
      created_at: now,
      name: given.name,
      description: given.description,
      metadata: given.metadata,
      expires_after_days: given.expiresAfterDays,
      expires_at: given.expiresAfterDays ? now + given.expiresAfterDays * 86400 : null,
      last_active_at: now,
      expired_at: null,
      embedding_model: model,
      chunking_strategy: given.chunking ? JSON.stringify(given.chunking) : null,
    }
  }

  /** Chunking for files added without one: the store's own, given at creation. */
  private storeChunking(store: VectorStoreRow): Chunking {
    if (!store.chunking_strategy) return AUTO_CHUNKING
    return resolveChunking(JSON.parse(store.chunking_strategy) as ChunkingStrategyParam, 'chunking_strategy')
  }

  /** The project's files, in order; F1 for the first that does not exist (or expired). */
  private async files(repos: Repos, projectId: string, ids: string[]) {
    const now = nowSeconds()
    const out = []
    for (const id of ids) {
      const file = await repos.files.get(projectId, id, now)
      if (!file) throw fileNotFound(id)
      out.push(file)
    }
    return out
  }

  /**
   * Attaches a file to a store and enqueues its ingestion. A file already in the store keeps its
   * attachment while it is in progress or completed (joining the batch); one that failed or was
   * cancelled is attached anew, under a new attachment id (the old one's chunks are purged).
   */
  private async attach(
    repos: Repos,
    store: VectorStoreRow,
    file: { id: string; filename: string },
    chunking: Chunking,
    attributes: Attributes | null,
    batchId: string | null,
  ): Promise<VectorStoreFileRow> {
    const existing = await repos.vectorStoreFiles.get(store.id, file.id)
    if (existing && (existing.status === 'in_progress' || existing.status === 'completed')) {
      if (batchId) await repos.vectorStoreFiles.update(existing.id, { batch_id: batchId })
      return { ...existing, batch_id: batchId ?? existing.batch_id }
    }
    if (existing) {
      await repos.vectorStoreFiles.delete(existing.id)
      await enqueuePurge(repos, store.id, existing.id)
    }
    const row: VectorStoreFileRow = {
      id: newId('vsf_'),
      vector_store_id: store.id,
      file_id: file.id,
      project_id: store.project_id,
      created_at: nowSeconds(),
      status: 'in_progress',
      last_error: null,
      usage_bytes: 0,
      chunking: JSON.stringify(chunking),
      attributes: attributes ? JSON.stringify(attributes) : null,
      filename: file.filename,
      batch_id: batchId,
      chunk_count: null,
    }
    await repos.vectorStoreFiles.insert(row)
    const payload: IngestPayload = { projectId: store.project_id, storeId: store.id, attachmentId: row.id }
    await repos.jobs.enqueue(INGEST_JOB, payload)
    return row
  }

  private async store(projectId: string, id: string): Promise<VectorStoreRow> {
    const row = await createRepos(this.deps.storage.db).vectorStores.get(projectId, id)
    if (!row) throw vectorStoreNotFound(id)
    return row
  }

  /** A store that may take files and searches: it exists and has not expired. */
  private async usableStore(projectId: string, id: string): Promise<VectorStoreRow> {
    const row = await this.store(projectId, id)
    if (isExpired(row, nowSeconds())) throw vectorStoreExpired(id)
    return row
  }

  private async attachment(projectId: string, storeId: string, fileId: string, repos = createRepos(this.deps.storage.db)) {
    const store = await repos.vectorStores.get(projectId, storeId)
    if (!store) throw vectorStoreNotFound(storeId)
    const row = await repos.vectorStoreFiles.get(storeId, fileId)
    if (!row) throw vectorStoreFileNotFound(fileId, storeId)
    return row
  }

  private async object(row: VectorStoreRow): Promise<VectorStore> {
    const tallies = await createRepos(this.deps.storage.db).vectorStoreFiles.tallyByStore([row.id])
    return toVectorStoreObject(row, tallies.get(row.id), nowSeconds())
  }

  private async batchObject(row: Parameters<typeof toFileBatchObject>[0]): Promise<VectorStoreFileBatch> {
    const tallies = await createRepos(this.deps.storage.db).vectorStoreFiles.tallyByBatch([row.id])
    return toFileBatchObject(row, tallies.get(row.id))
  }
}
