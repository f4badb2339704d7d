import type { Config } from '../../config/schema.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { BlobStore } from '../../storage/blobs/blob-store.js'
import type { Storage } from '../../storage/storage.js'
import type { VectorIndex } from '../../storage/vector-index/vector-index.js'
import type { ChatService } from '../inference/chat.js'
import type { UsageRecorder } from '../inference/usage.js'
import { Embedder } from './embedder.js'
import { Extractor } from './extractor.js'
import { Ingestion } from './ingest.js'
import { VectorStoreMaintenance } from './maintenance.js'
import { QueryRewriter } from './query-rewriter.js'
import { Retrieval } from './search.js'
import { VectorStoresService } from './service.js'

export { INGEST_JOB, PURGE_JOB, type IngestPayload, type PurgePayload } from './objects.js'
export type { SearchOptions, SearchResult } from './search.js'

/** Vector stores and retrieval: what context.ts builds, the jobs run and file_search searches with. */
export type RetrievalServices = {
  vectorStores: VectorStoresService
  /** `search(principal, storeIds, query, options)`: ranked chunks with their files and scores */
  retrieval: Retrieval
  ingestion: Ingestion
  maintenance: VectorStoreMaintenance
  index: VectorIndex
  close(): Promise<void>
}

export function createRetrievalServices(deps: {
  storage: Storage
  blobs: BlobStore
  index: VectorIndex
  providers: ProviderRegistry
  config: Config['vectorStores']
  /** bills what the search endpoint costs (the query's embedding, the rewrite) */
  usage: Pick<UsageRecorder, 'record'>
  /** runs `config.rewriteModel`, when one is set */
  chat?: Pick<ChatService, 'create'>
  wake?: () => void
}): RetrievalServices {
  const embedder = new Embedder(deps.providers)
  const extractor = new Extractor()
  const rewriter = new QueryRewriter(deps.chat, deps.config.rewriteModel)
  const retrieval = new Retrieval(deps.storage, deps.index, embedder, rewriter)
  return {
    vectorStores: new VectorStoresService({
      storage: deps.storage,
      index: deps.index,
      embedder,
      retrieval,
      usage: deps.usage,
      config: deps.config,
      wake: deps.wake,
    }),
    retrieval,
    ingestion: new Ingestion({
      storage: deps.storage,
      blobs: deps.blobs,
      index: deps.index,
      embedder,
      extractor,
      limits: deps.config,
    }),
    maintenance: new VectorStoreMaintenance(deps.storage, deps.index),
    index: deps.index,
    close: () => extractor.close(),
  }
}
