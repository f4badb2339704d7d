import type { Kysely } from 'kysely'
import type { Filter } from '../../schemas/vector-stores.js'
import type { Database } from '../tables.js'

/** One chunk to index: its attachment (vector_store_files.id), position, text and vector. */
export type ChunkInsert = {
  storeId: string
  attachmentId: string
  index: number
  text: string
  tokens: number
  embedding: Float32Array
}

/** A chunk's place in a file, as the file content endpoint lists them. */
export type StoredChunk = { index: number; text: string; tokens: number }

/** What a search restricts itself to: completed files of these stores that pass the filter. */
export type ChunkScope = {
  storeIds: string[]
  filter?: Filter
  /**
   * How many chunks the completed files of these stores hold, and whether any other file of them
   * has chunks (in progress or being removed): the index picks its plan from it.
   */
  stats: { chunks: number; otherFiles: boolean }
}

export type VectorQuery = ChunkScope & {
  embedding: Float32Array
  limit: number
  /** exact search over every chunk in scope, whatever its size (the bench's baseline) */
  exact?: boolean
}

export type KeywordQuery = ChunkScope & {
  /** the words to look for, any of them (already cleaned of punctuation) */
  terms: string[]
  limit: number
}

/** A chunk found, best first; `score` is a similarity (vector) or a relevance (keyword). */
export type Hit = { seq: number; score: number }

/** A found chunk with what a search result shows of it. */
export type ChunkRecord = {
  seq: number
  attachmentId: string
  storeId: string
  fileId: string
  filename: string
  attributes: string | null
  text: string
}

/**
 * Up to this many chunks in scope, a search compares the query with every chunk's exact vector:
 * about 2 ms per 1,000 chunks of 1,536 dimensions, and nothing to miss.
 */
export const EXACT_MAX_CHUNKS = 4096

/** A chunk joined with its file, as both dialects select it. */
export type ChunkRow = {
  seq: number
  attachment_id: string
  vector_store_id: string
  file_id: string
  filename: string
  attributes: string | null
  text: string
}

export function toRecord(r: ChunkRow): ChunkRecord {
  return {
    seq: Number(r.seq),
    attachmentId: r.attachment_id,
    storeId: r.vector_store_id,
    fileId: r.file_id,
    filename: r.filename,
    attributes: r.attributes,
    text: r.text,
  }
}

export type VectorIndexStatus = { ready: true } | { ready: false; reason: string }

/**
 * Where chunks, their vectors and their words are indexed: sqlite-vec and FTS5 on SQLite,
 * pgvector and full-text search on PostgreSQL (dialect.ts picks one). Every method takes the
 * Kysely handle to work through, so the caller's transaction holds them. Searches look only at
 * completed files of the stores in scope, with the attribute filter applied inside the query.
 */
export interface VectorIndex {
  readonly name: 'sqlite-vec' | 'pgvector'
  /** Creates the index's tables when it can; says what is missing otherwise (at boot). */
  prepare(db: Kysely<Database>): Promise<VectorIndexStatus>
  /** The last prepare's answer. */
  status(): VectorIndexStatus
  /**
   * Adds chunks; one already there (same attachment and index) is left as it was. Returns the
   * indexes of the chunks it added.
   */
  insert(db: Kysely<Database>, chunks: ChunkInsert[]): Promise<number[]>
  /** Indexes of the attachment's chunks already stored. */
  indexed(db: Kysely<Database>, attachmentId: string): Promise<Set<number>>
  /** The attachment's chunks in order, from `offset`. */
  chunks(db: Kysely<Database>, attachmentId: string, offset: number, limit: number): Promise<StoredChunk[]>
  /** Deletes up to `limit` chunks of an attachment, or of a whole store; returns how many. */
  purge(db: Kysely<Database>, of: { attachmentId: string } | { storeId: string }, limit: number): Promise<number>
  vectorSearch(db: Kysely<Database>, query: VectorQuery): Promise<Hit[]>
  keywordSearch(db: Kysely<Database>, query: KeywordQuery): Promise<Hit[]>
  /** The chunks behind hits, with their files' names and attributes. */
  load(db: Kysely<Database>, seqs: number[]): Promise<ChunkRecord[]>
}

/** Bytes a chunk takes in the index: its text and its vector (what usage_bytes counts). */
export function chunkBytes(text: string, dims: number): number {
  return Buffer.byteLength(text, 'utf8') + dims * 4
}
