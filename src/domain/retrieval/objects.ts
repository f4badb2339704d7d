import type {
  Attributes,
  FileCounts,
  LastError,
  VectorStore,
  VectorStoreFile,
  VectorStoreFileBatch,
} from '../../schemas/vector-stores.js'
import type {
  FileTally,
  VectorStoreFileBatchRow,
  VectorStoreFileRow,
  VectorStoreRow,
} from '../../storage/repositories/vector-stores.js'

/** The ingestion job's kind and payload; the purge job's (docs/vector-stores.md). */
export const INGEST_JOB = 'vector_store.file.ingest'
export const PURGE_JOB = 'vector_store.purge'
export type IngestPayload = { projectId: string; storeId: string; attachmentId: string }
export type PurgePayload = { storeId: string; attachmentId?: string }

export function fileCounts(tally: FileTally | undefined): FileCounts {
  const t = tally ?? { in_progress: 0, completed: 0, failed: 0, cancelled: 0, usage_bytes: 0 }
  return {
    in_progress: t.in_progress,
    completed: t.completed,
    failed: t.failed,
    cancelled: t.cancelled,
    total: t.in_progress + t.completed + t.failed + t.cancelled,
  }
}

/** A store has expired once its expiry passed, whether or not the sweep marked it yet. */
export function isExpired(row: VectorStoreRow, now: number): boolean {
  return row.expired_at !== null || (row.expires_at !== null && row.expires_at <= now)
}

export function toVectorStoreObject(row: VectorStoreRow, tally: FileTally | undefined, now: number): VectorStore {
  const counts = fileCounts(tally)
  return {
    id: row.id,
    object: 'vector_store',
    created_at: row.created_at,
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    usage_bytes: tally?.usage_bytes ?? 0,
    file_counts: counts,
    status: isExpired(row, now) ? 'expired' : counts.in_progress > 0 ? 'in_progress' : 'completed',
    ...(row.expires_after_days !== null
      ? { expires_after: { anchor: 'last_active_at' as const, days: row.expires_after_days } }
      : {}),
    expires_at: row.expires_at,
    last_active_at: row.last_active_at,
    // OpenAI shows unset metadata as {}, as on every other object
    metadata: row.metadata ? JSON.parse(row.metadata) : {},
  }
}

export function toVectorStoreFileObject(row: VectorStoreFileRow): VectorStoreFile {
  const chunking = JSON.parse(row.chunking) as { max_chunk_size_tokens: number; chunk_overlap_tokens: number }
  return {
    id: row.file_id,
    object: 'vector_store.file',
    usage_bytes: row.usage_bytes,
    created_at: row.created_at,
    vector_store_id: row.vector_store_id,
    status: row.status,
    last_error: row.last_error ? (JSON.parse(row.last_error) as LastError) : null,
    chunking_strategy: { type: 'static', static: chunking },
    // a file without attributes shows {} at OpenAI, not null
    attributes: row.attributes ? (JSON.parse(row.attributes) as Attributes) : {},
  }
}

export function toFileBatchObject(row: VectorStoreFileBatchRow, tally: FileTally | undefined): VectorStoreFileBatch {
  const counts = fileCounts(tally)
  return {
    id: row.id,
    object: 'vector_store.files_batch',
    created_at: row.created_at,
    vector_store_id: row.vector_store_id,
    // a batch is done once none of its files is left in progress
    status: row.status === 'cancelled' ? 'cancelled' : counts.in_progress > 0 ? 'in_progress' : 'completed',
    file_counts: counts,
  }
}
