/**
 * Vector stores, the files in them and file batches (migration 0010, docs/vector-stores.md).
 * The chunks, their vectors and the keyword index belong to the vector index
 * (storage/vector-index/), whose tables differ per dialect and are not listed here.
 */

export interface VectorStoresTable {
  id: string
  project_id: string
  org_id: string
  created_at: number
  name: string
  description: string | null
  /** JSON object of string pairs, or null */
  metadata: string | null
  /** `expires_after.days` (anchor last_active_at), or null */
  expires_after_days: number | null
  expires_at: number | null
  last_active_at: number
  /** set by the sweep (or a read) once expires_at passed */
  expired_at: number | null
  /** the model every chunk of the store is embedded with, fixed at creation */
  embedding_model: string
  /** JSON ChunkingStrategyParam given at creation: the default for files added with none */
  chunking_strategy: string | null
}

export type VectorStoreFileState = 'in_progress' | 'completed' | 'failed' | 'cancelled'

/**
 * A file attached to a store. `id` (vsf_...) names this attachment: its chunks carry it, so a file
 * removed and attached again never shares chunks with its earlier attachment, whose chunks are
 * purged in the background.
 */
export interface VectorStoreFilesTable {
  id: string
  vector_store_id: string
  file_id: string
  project_id: string
  created_at: number
  status: VectorStoreFileState
  /** JSON { code, message } when failed */
  last_error: string | null
  /** bytes of its chunks' text and vectors, so far */
  usage_bytes: number
  /** JSON { max_chunk_size_tokens, chunk_overlap_tokens } */
  chunking: string
  /** JSON attributes or null */
  attributes: string | null
  filename: string
  /** the file batch that added it last, if any */
  batch_id: string | null
  /** chunks the file yields, once known (ingestion resumes after the ones indexed) */
  chunk_count: number | null
}

export interface VectorStoreFileBatchesTable {
  id: string
  vector_store_id: string
  project_id: string
  created_at: number
  /** in_progress | cancelled: completed is read from the files' counts */
  status: 'in_progress' | 'cancelled'
  cancelled_at: number | null
}

/** What each project's vector stores held on a day, as recorded in the usage (exactly once). */
export interface VectorStoreUsageDaysTable {
  project_id: string
  /** unix seconds of the day's start (UTC) */
  day: number
  usage_bytes: number
}
