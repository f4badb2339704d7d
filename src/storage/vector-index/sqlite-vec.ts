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


/**
 * The vector index on SQLite: chunks (text and float32 vector) in `vector_store_chunks`, their
 * words in an FTS5 table over it (bm25), and one sqlite-vec `vec0` table per dimension holding
 * the vectors' signs as bits (binary quantization), partitioned by store.
 *
 * sqlite-vec 0.1 searches by brute force: over float vectors that was about 190 ms per query at
 * 100k chunks of 1,536 dimensions. Bits are 32 times smaller and compared by popcount, so a coarse
 * pass over them takes a few milliseconds; its best `candidates` are then ranked again by their
 * exact cosine distance (rescoring). docs/vector-stores.md has the measured recall and timings.
 */
export class SqliteVecIndex implements VectorIndex {
  readonly name = 'sqlite-vec' as const
  #status: VectorIndexStatus = { ready: false, reason: 'the vector index was not prepared' }
  /** vec0 tables known to exist */
  readonly #vecTables = new Set<string>()

  async prepare(db: Kysely<Database>): Promise<VectorIndexStatus> {
    try {
      await sql`select vec_version()`.execute(db)
    } catch (error) {
      this.#status = {
        ready: false,
        reason: `the sqlite-vec extension could not be loaded into SQLite (${(error as Error).message}); reinstall Plinth's dependencies (npm ci) on a platform sqlite-vec ships for (linux, macOS or Windows on x64 or arm64)`,
      }
      return this.#status
    }
    await sql`create table if not exists vector_store_chunks (
      seq integer primary key,
      vector_store_id text not null,
      attachment_id text not null,
      chunk_index integer not null,
      tokens integer not null,
      dims integer not null,
      text text not null,
      embedding blob not null
    )`.execute(db)
    await sql`create unique index if not exists vector_store_chunks_attachment
      on vector_store_chunks (attachment_id, chunk_index)`.execute(db)
    await sql`create index if not exists vector_store_chunks_store
      on vector_store_chunks (vector_store_id)`.execute(db)
    // external content: the words index the chunks' own text, kept in step by triggers
    await sql`create virtual table if not exists vector_store_chunks_fts using fts5(
      text, content='vector_store_chunks', content_rowid='seq',
      tokenize='porter unicode61 remove_diacritics 2'
    )`.execute(db)
    await sql`create trigger if not exists vector_store_chunks_fts_insert
      after insert on vector_store_chunks begin
        insert into vector_store_chunks_fts (rowid, text) values (new.seq, new.text);
      end`.execute(db)
    await sql`create trigger if not exists vector_store_chunks_fts_delete
      after delete on vector_store_chunks begin
        insert into vector_store_chunks_fts (vector_store_chunks_fts, rowid, text)
        values ('delete', old.seq, old.text);
      end`.execute(db)
    this.#status = { ready: true }
    return this.#status
  }

  status(): VectorIndexStatus {
    return this.#status
  }

  async insert(db: Kysely<Database>, chunks: ChunkInsert[]): Promise<number[]> {
    if (!chunks.length) return []
    const rows = chunks.map(
      (c) =>
        sql`(${c.storeId}, ${c.attachmentId}, ${c.index}, ${c.tokens}, ${c.embedding.length}, ${c.text}, ${floatBlob(c.embedding)})`,
    )
    const { rows: inserted } = await sql<{ seq: number; chunk_index: number }>`
      insert into vector_store_chunks
        (vector_store_id, attachment_id, chunk_index, tokens, dims, text, embedding)
      values ${sql.join(rows)}
      on conflict (attachment_id, chunk_index) do nothing
      returning seq, chunk_index`.execute(db)
    if (!inserted.length) return []
    const byIndex = new Map(chunks.map((c) => [c.index, c]))
    const layout = layoutOf(chunks[0].embedding.length)
    await this.ensureVecTable(db, layout)
    const vecRows = inserted.map(({ seq, chunk_index }) => {
      const chunk = byIndex.get(chunk_index)!
      return sql`(${intList([seq])}, ${chunk.storeId}, ${layout.value(chunk.embedding)})`
    })
    await sql`insert into ${sql.raw(layout.table)} (rowid, vector_store_id, embedding)
      values ${sql.join(vecRows)}`.execute(db)
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
    const { rows } = await sql<{ seq: number; dims: number }>`
      select seq, dims from vector_store_chunks where ${where} limit ${limit}`.execute(db)
    if (!rows.length) return 0
    const byTable = new Map<string, number[]>()
    for (const row of rows) {
      const table = layoutOf(row.dims).table
      byTable.set(table, [...(byTable.get(table) ?? []), row.seq])
    }
    for (const [table, seqs] of byTable) {
      if (!(await this.hasVecTable(db, table))) continue
      await sql`delete from ${sql.raw(table)} where rowid in (${intList(seqs)})`.execute(db)
    }
    await sql`delete from vector_store_chunks where seq in (${intList(rows.map((r) => r.seq))})`.execute(db)
    return rows.length
  }

  async vectorSearch(db: Kysely<Database>, q: VectorQuery): Promise<Hit[]> {
    if (!q.storeIds.length || q.limit < 1) return []
    const dims = q.embedding.length
    const query = floatBlob(q.embedding)
    if (q.exact || q.stats.chunks <= EXACT_MAX_CHUNKS) {
      const { rows } = await sql<{ seq: number; distance: number }>`
        select c.seq, vec_distance_cosine(c.embedding, ${query}) as distance
        from vector_store_chunks c join vector_store_files f on f.id = c.attachment_id
        where ${scopeSql(q)} and c.dims = ${dims}
        order by distance limit ${q.limit}`.execute(db)
      return rows.map((r) => ({ seq: r.seq, score: 1 - r.distance }))
    }
    const layout = layoutOf(dims)
    if (!(await this.hasVecTable(db, layout.table))) return []
    const candidates = candidateCount(q.limit)
    const stores = sql.join(q.storeIds)
    // with no filter and nothing but completed files, the store's partition is the scope;
    // otherwise the coarse pass is held to the chunks in scope (rowid in ...)
    const restrict =
      q.filter || q.stats.otherFiles
        ? sql`and rowid in (select c.seq from vector_store_chunks c
            join vector_store_files f on f.id = c.attachment_id where ${scopeSql(q)})`
        : sql``
    const { rows: coarse } = await sql<{ rowid: number }>`
      select rowid from ${sql.raw(layout.table)}
      where embedding match ${layout.value(q.embedding)} and k = ${candidates}
        and vector_store_id in (${stores}) ${restrict}`.execute(db)
    if (!coarse.length) return []
    // rescoring: exact distances of the candidates (still only completed files: a removed file's
    // chunks may wait for the purge)
    const { rows } = await sql<{ seq: number; distance: number }>`
      select c.seq, vec_distance_cosine(c.embedding, ${query}) as distance
      from vector_store_chunks c join vector_store_files f on f.id = c.attachment_id
      where c.seq in (${intList(coarse.map((r) => r.rowid))}) and f.status = 'completed'
      order by distance limit ${q.limit}`.execute(db)
    return rows.map((r) => ({ seq: r.seq, score: 1 - r.distance }))
  }

  async keywordSearch(db: Kysely<Database>, q: KeywordQuery): Promise<Hit[]> {
    if (!q.storeIds.length || !q.terms.length || q.limit < 1) return []
    const match = q.terms.map((t) => `"${t}"`).join(' OR ')
    const { rows } = await sql<{ seq: number; rank: number }>`
      select c.seq, bm25(vector_store_chunks_fts) as rank
      from vector_store_chunks_fts
        join vector_store_chunks c on c.seq = vector_store_chunks_fts.rowid
        join vector_store_files f on f.id = c.attachment_id
      where vector_store_chunks_fts match ${match} and ${scopeSql(q)}
      order by rank limit ${q.limit}`.execute(db)
    // bm25() is lower for better matches
    return rows.map((r) => ({ seq: r.seq, score: -r.rank }))
  }

  async load(db: Kysely<Database>, seqs: number[]): Promise<ChunkRecord[]> {
    if (!seqs.length) return []
    const { rows } = await sql<ChunkRow>`
      select c.seq, c.attachment_id, c.vector_store_id, f.file_id, f.filename, f.attributes, c.text
      from vector_store_chunks c join vector_store_files f on f.id = c.attachment_id
      where c.seq in (${intList(seqs)})`.execute(db)
    return rows.map(toRecord)
  }

  private async ensureVecTable(db: Kysely<Database>, layout: Layout) {
    if (this.#vecTables.has(layout.table)) return
    await sql`create virtual table if not exists ${sql.raw(layout.table)} using vec0(
      vector_store_id text partition key,
      embedding ${sql.raw(layout.column)}
    )`.execute(db)
    this.#vecTables.add(layout.table)
  }

  private async hasVecTable(db: Kysely<Database>, table: string): Promise<boolean> {
    if (this.#vecTables.has(table)) return true
    const { rows } = await sql`select 1 from sqlite_master where name = ${table}`.execute(db)
    if (rows.length) this.#vecTables.add(table)
    return rows.length > 0
  }
}

/**
 * Candidates the coarse pass keeps for rescoring. sqlite-vec's cost grows with k (at 100k chunks:
 * k=10 12 ms, k=100 20 ms, k=400 59 ms), and recall@10 was 1.0 with 128 in the bench, so 5 per
 * result and at least 64.
 */
export function candidateCount(limit: number): number {
  return Math.min(400, Math.max(64, limit * 5))
}

/** Chunks of completed files of the stores in scope that pass the filter (`c` chunks, `f` files). */
function scopeSql(q: ChunkScope): RawBuilder<unknown> {
  return sql`c.vector_store_id in (${sql.join(q.storeIds)}) and f.status = 'completed'
    and (${filterSql(q.filter, comparisonSql)})`
}

/** An attribute comparison on SQLite: the attribute is looked up with json_each (any key works). */
function comparisonSql(filter: ComparisonFilter): RawBuilder<unknown> {
  const values = filterValues(filter)
  const matches = (op: RawBuilder<unknown>) =>
    sql`exists (select 1 from json_each(f.attributes) a where a.key = ${filter.key} and (${op}))`
  const equalsAny = sql.join(values.map((v) => typedEquals(v)), sql` or `)
  switch (filter.type) {
    case 'eq':
    case 'in':
      return matches(equalsAny)
    case 'ne':
    case 'nin':
      return sql`not ${matches(equalsAny)}`
    default: {
      const op = sql.raw(RANGE_OPERATORS[filter.type])
      const value = values[0]
      const type = typeof value === 'number' ? sql`a.type in ('integer', 'real')` : sql`a.type = 'text'`
      return matches(sql`${type} and a.value ${op} ${value}`)
    }
  }
}

function typedEquals(value: string | number | boolean): RawBuilder<unknown> {
  if (typeof value === 'boolean') return sql`a.type = ${value ? 'true' : 'false'}`
  if (typeof value === 'number') return sql`(a.type in ('integer', 'real') and a.value = ${value})`
  return sql`(a.type = 'text' and a.value = ${value})`
}

/**
 * Row ids written into the statement: better-sqlite3 binds JS numbers as REAL, which vec0 refuses
 * as a row id. They are integers the index made itself, never client input.
 */
function intList(seqs: number[]) {
  return sql.raw(seqs.map((n) => String(Math.trunc(Number(n)))).join(', '))
}

/**
 * Below this many dimensions a sign bit per dimension says too little (64 bits kept 59% of the
 * true top 10 in the test), while the float vectors are small enough to scan: such vectors go
 * into a float vec0 table, searched exactly.
 */
const MIN_QUANTIZED_DIMS = 256

/** How vectors of one dimension are kept in vec0: the table, its column, a query value. */
type Layout = { table: string; column: string; value(vector: Float32Array): RawBuilder<unknown> }

function layoutOf(dims: number): Layout {
  if (dims < MIN_QUANTIZED_DIMS) {
    return {
      table: `vector_store_vecf_${dims}`,
      column: `float[${dims}] distance_metric=cosine`,
      value: (vector) => sql`${floatBlob(vector)}`,
    }
  }
  // vec0 bit vectors come in whole bytes: shorter vectors are padded with zero bits
  const bits = Math.ceil(dims / 8) * 8
  return {
    table: `vector_store_vec_${bits}`,
    column: `bit[${bits}]`,
    value: (vector) => sql`vec_bit(${signBits(vector, bits)})`,
  }
}

function floatBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength)
}

/** Binary quantization: one bit per dimension, set when the value is positive. */
export function signBits(vector: Float32Array, bits: number): Buffer {
  const out = Buffer.alloc(bits / 8)
  for (let i = 0; i < vector.length; i++) if (vector[i] > 0) out[i >> 3] |= 1 << (i & 7)
  return out
}
