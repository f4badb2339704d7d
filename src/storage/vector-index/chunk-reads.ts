import { sql, type Kysely } from 'kysely'
import type { Database } from '../tables.js'
import type { StoredChunk } from './vector-index.js'

// Reads of vector_store_chunks that are the same SQL on SQLite and PostgreSQL: both adapters
// (sqlite-vec.ts, pgvector.ts) answer VectorIndex.indexed and VectorIndex.chunks with these.

/** The chunk indexes of an attachment already stored (an ingestion resumed after a crash skips them). */
export async function indexedChunks(db: Kysely<Database>, attachmentId: string): Promise<Set<number>> {
  const { rows } = await sql<{ chunk_index: number }>`
    select chunk_index from vector_store_chunks where attachment_id = ${attachmentId}`.execute(db)
  return new Set(rows.map((r) => r.chunk_index))
}

/** A page of an attachment's chunks, in order, from chunk `offset`. */
export async function chunkPage(db: Kysely<Database>, attachmentId: string, offset: number, limit: number): Promise<StoredChunk[]> {
  const { rows } = await sql<{ chunk_index: number; text: string; tokens: number }>`
    select chunk_index, text, tokens from vector_store_chunks
    where attachment_id = ${attachmentId} and chunk_index >= ${offset}
    order by chunk_index limit ${limit}`.execute(db)
  return rows.map((r) => ({ index: r.chunk_index, text: r.text, tokens: r.tokens }))
}
