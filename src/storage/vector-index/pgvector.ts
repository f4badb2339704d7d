import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { ComparisonFilter } from '../../schemas/vector-stores.js'
import type { Database } from '../tables.js'
import { chunkPage, indexedChunks } from './chunk-reads.js'
import { filterSql, filterValues, RANGE_OPERATORS } from './filters.js'
import { EXACT_MAX_CHUNKS, toRecord, type ChunkRow } from './vector-index.js'
import type {
  ChunkInsert,
  ChunkRecord,
  ChunkScope,
  Hit,
  KeywordQuery,
  StoredChunk,
  VectorIndex,
  VectorIndexStatus,
  VectorQuery,
} from './vector-index.js'

/** pgvector's HNSW indexes `vector` columns of at most this many dimensions. */
const HNSW_MAX_DIMS = 2000

const INSTALL_HINT =
  "install your distribution's pgvector package (Debian/Ubuntu: postgresql-<version>-pgvector) or build it from source (https://github.com/pgvector/pgvector: make && make install), then run CREATE EXTENSION vector; as a superuser in this database"

/**
 * The vector index on PostgreSQL: chunks in `vector_store_chunks` with a pgvector `vector`
 * column and a generated `tsvector`. Each dimension gets its own partial HNSW index on
 * `embedding::vector(n)` (cosine), created with the first chunk of that size. Keyword search is
 * PostgreSQL's full-text search ranked with ts_rank_cd.
 */
export class PgVectorIndex implements VectorIndex {
  readonly name = 'pgvector' as const
  #status: VectorIndexStatus = { ready: false, reason: 'the vector index was not prepared' }
  readonly #hnsw = new Set<number>()

  async prepare(db: Kysely<Database>): Promise<VectorIndexStatus> {
    const { rows } = await sql<{ installed: string | null }>`
      select installed_version as installed from pg_available_extensions where name = 'vector'`.execute(db)
    if (!rows.length) {
      this.#status = {
        ready: false,
        reason: `the pgvector extension is not installed on this PostgreSQL server: ${INSTALL_HINT}`,
      }
      return this.#status
    }
    if (!rows[0].installed) {
      // a role that may create it (a superuser, or the owner where it is trusted) does so now
      await sql`create extension if not exists vector`.execute(db).catch(() => undefined)
      const again = await sql<{ installed: string | null }>`
        select installed_version as installed from pg_available_extensions where name = 'vector'`.execute(db)
      if (!again.rows[0]?.installed) {
        this.#status = {
          ready: false,
          reason: `the pgvector extension is available on this PostgreSQL server but not created in this database, and Plinth's role may not create it: ${INSTALL_HINT}`,
        }
        return this.#status
      }
    }
    try {
      await sql`create table if not exists vector_store_chunks (
        seq bigint generated always as identity primary key,
        vector_store_id text collate "C" not null,
        attachment_id text collate "C" not null,
        chunk_index integer not null,
        tokens integer not null,
        dims integer not null,
        text text not null,
        embedding vector not null,
        tsv tsvector generated always as (to_tsvector('english', text)) stored
      )`.execute(db)
    } catch (error) {
      this.#status = {
        ready: false,
        reason: `the vector index's table could not be created (${(error as Error).message}); is the schema holding the vector extension on the search_path? ${INSTALL_HINT}`,
      }
      return this.#status
    }
    await createIndexQuietly(db, sql`create unique index if not exists vector_store_chunks_attachment
      on vector_store_chunks (attachment_id, chunk_index)`)
    await createIndexQuietly(db, sql`create index if not exists vector_store_chunks_store
      on vector_store_chunks (vector_store_id)`)
    await createIndexQuietly(db, sql`create index if not exists vector_store_chunks_tsv
      on vector_store_chunks using gin (tsv)`)
    this.#status = { ready: true }
    return this.#status
  }

  status(): VectorIndexStatus {
    return this.#status
  }

  async insert(db: Kysely<Database>, chunks: ChunkInsert[]): Promise<number[]> {
    if (!chunks.length) return []
    const dims = chunks[0].embedding.length
    await this.ensureHnsw(db, dims)
    const rows = chunks.map(
      (c) =>
        sql`(${c.storeId}, ${c.attachmentId}, ${c.index}, ${c.tokens}, ${c.embedding.length}, ${c.text}, ${vectorText(c.embedding)}::vector)`,
    )
    const { rows: inserted } = await sql<{ chunk_index: number }>`
      insert into vector_store_chunks
        (vector_store_id, attachment_id, chunk_index, tokens, dims, text, embedding)
      values ${sql.join(rows)}
      on conflict (attachment_id, chunk_index) do nothing
      returning chunk_index`.execute(db)
    return inserted.map((r) => r.chunk_index)
  }

  indexed(db: Kysely<Database>, attachmentId: string): Promise<Set<number>> {
    return indexedChunks(db, attachmentId)
  }

  chunks(db: Kysely<Database>, attachmentId: string, offset: number, limit: number): Promise<StoredChunk[]> {
    return chunkPage(db, attachmentId, offset, limit)
  }

  async purge(db: Kysely<Database>, of: { attachmentId: string } | { storeId: string }, limit: number): Promise<number> {
    const where = 'attachmentId' in of ? sql`attachment_id = ${of.attachmentId}` : sql`vector_store_id = ${of.storeId}`
    const result = await sql`delete from vector_store_chunks where seq in (
      select seq from vector_store_chunks where ${where} limit ${limit})`.execute(db)
    return Number(result.numAffectedRows ?? 0)
  }

  async vectorSearch(db: Kysely<Database>, q: VectorQuery): Promise<Hit[]> {
    if (!q.storeIds.length || q.limit < 1) return []
    const dims = q.embedding.length
    const query = vectorText(q.embedding)
    if (q.exact || q.stats.chunks <= EXACT_MAX_CHUNKS || dims > HNSW_MAX_DIMS) {
      // the plain expression matches no index: every chunk in scope is compared exactly
      const { rows } = await sql<{ seq: number; distance: number }>`
        select c.seq, c.embedding <=> ${query}::vector as distance
        from vector_store_chunks c
        where ${scopeSql(q)} and c.dims = ${dims}
        order by distance limit ${q.limit}`.execute(db)
      return rows.map((r) => ({ seq: Number(r.seq), score: 1 - r.distance }))
    }
    const typed = sql.raw(`vector(${dims})`)
    return db.transaction().execute(async (trx) => {
      // Settings for this transaction only, in one round trip. A filter or a small store in a big
      // table: iterative scans go on until enough rows pass. The scope already said this search is
      // approximate, but the planner's costs often preferred sorting the store's every chunk
      // (88 ms at 10k, against 1.6 ms through the index): seq scans and sorts are off here.
      const efSearch = String(Math.max(64, q.limit * 2))
      await sql`select set_config('hnsw.ef_search', ${efSearch}, true),
        set_config('hnsw.iterative_scan', 'strict_order', true),
        set_config('enable_seqscan', 'off', true),
        set_config('enable_sort', 'off', true)`.execute(trx)
      const { rows } = await sql<{ seq: number; distance: number }>`
        select c.seq, c.embedding::${typed} <=> ${query}::${typed} as distance
        from vector_store_chunks c
        where c.dims = ${dims} and ${scopeSql(q)}
        order by c.embedding::${typed} <=> ${query}::${typed} limit ${q.limit}`.execute(trx)
      return rows.map((r) => ({ seq: Number(r.seq), score: 1 - r.distance }))
    })
  }

  async keywordSearch(db: Kysely<Database>, q: KeywordQuery): Promise<Hit[]> {
    if (!q.storeIds.length || !q.terms.length || q.limit < 1) return []
    const { rows } = await sql<{ seq: number; rank: number }>`
      select c.seq, ts_rank_cd(c.tsv, query) as rank
      from vector_store_chunks c
        cross join to_tsquery('english', ${q.terms.join(' | ')}) query
      where c.tsv @@ query and ${scopeSql(q)}
      order by rank desc limit ${q.limit}`.execute(db)
    return rows.map((r) => ({ seq: Number(r.seq), score: r.rank }))
  }

  async load(db: Kysely<Database>, seqs: number[]): Promise<ChunkRecord[]> {
    if (!seqs.length) return []
    const { rows } = await sql<ChunkRow>`
      select c.seq, c.attachment_id, c.vector_store_id, f.file_id, f.filename, f.attributes, c.text
      from vector_store_chunks c join vector_store_files f on f.id = c.attachment_id
      where c.seq in (${sql.join(seqs)})`.execute(db)
    return rows.map(toRecord)
  }

  /** The partial HNSW index of one dimension, made before its first chunk is written. */
  private async ensureHnsw(db: Kysely<Database>, dims: number) {
    if (this.#hnsw.has(dims) || dims > HNSW_MAX_DIMS) return
    const name = sql.raw(`vector_store_chunks_hnsw_${dims}`)
    const typed = sql.raw(`vector(${dims})`)
    await createIndexQuietly(
      db,
      sql`create index if not exists ${name} on vector_store_chunks
        using hnsw ((embedding::${typed}) vector_cosine_ops) where dims = ${sql.raw(String(dims))}`,
    )
    this.#hnsw.add(dims)
  }
}

/** Two nodes (or test suites) creating the same index at once: the loser's error is no error. */
async function createIndexQuietly(db: Kysely<Database>, statement: RawBuilder<unknown>) {
  try {
    await statement.execute(db)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code !== '23505' && code !== '42P07') throw error
  }
}

/** pgvector's text form: [1,2,3]. */
function vectorText(vector: Float32Array): string {
  let out = '['
  for (let i = 0; i < vector.length; i++) out += (i ? ',' : '') + vector[i]
  return out + ']'
}

/**
 * Chunks of completed files of the stores in scope that pass the filter. The files are an array
 * computed once (an InitPlan), not a join: joined, the planner sorted every chunk of the store by
 * distance (80 ms at 10k chunks) instead of walking the HNSW index (6 ms).
 */
function scopeSql(q: ChunkScope): RawBuilder<unknown> {
  const stores = sql.join(q.storeIds)
  return sql`c.vector_store_id in (${stores}) and c.attachment_id = any(array(
    select f.id from vector_store_files f
    where f.vector_store_id in (${stores}) and f.status = 'completed'
      and (${filterSql(q.filter, comparisonSql)})))`
}

/** An attribute comparison on PostgreSQL, over the attributes as jsonb. */
function comparisonSql(filter: ComparisonFilter): RawBuilder<unknown> {
  const attribute = sql`(f.attributes::jsonb -> ${filter.key})`
  const values = filterValues(filter)
  // jsonb equality is typed: "1" never equals 1, and 1 equals 1.0
  const equalsAny = sql`coalesce(${attribute} = any(array[${sql.join(values.map((v) => sql`${JSON.stringify(v)}::jsonb`))}]), false)`
  switch (filter.type) {
    case 'eq':
    case 'in':
      return equalsAny
    case 'ne':
    case 'nin':
      return sql`not ${equalsAny}`
    default: {
      const op = sql.raw(RANGE_OPERATORS[filter.type])
      const value = values[0]
      if (typeof value === 'number') {
        return sql`coalesce((case when jsonb_typeof(${attribute}) = 'number' then (${attribute})::text::numeric end) ${op} ${value}, false)`
      }
      return sql`coalesce((case when jsonb_typeof(${attribute}) = 'string' then f.attributes::jsonb ->> ${filter.key} end) collate "C" ${op} ${String(value)}, false)`
    }
  }
}
