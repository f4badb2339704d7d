// npm run bench:vectors: vector store ingestion and search on SQLite (sqlite-vec + FTS5) and, when
// TEST_PG_URL is set, PostgreSQL (pgvector + full-text search).
//
// - Ingestion: text files through Plinth's own pipeline (the ingest job: extraction and token
//   chunking in the worker, embedding, the index's writes), with the embedding model's time
//   measured apart; Plinth's share is set against test-embed and stories260K.gguf per chunk.
// - Search, at 10k and 100k chunks of 1,536 dimensions: p50/p99 of the index's vector search, of
//   exact search (the baseline, same run), of keyword search and of the whole hybrid search;
//   recall@10 of the index against exact search.
//
// Vectors have the structure embeddings have (points of a 32-dimensional space mapped into 1,536,
// plus noise), from a stub model that also yields each chunk's vector from its text; random
// vectors would make every neighbour as far as any other, which no real model does.
//
// Defaults fit about 5 minutes here: SQLite 10k + 100k, PostgreSQL 10k (its HNSW takes about
// 5 ms per inserted chunk on these 2 cores). BENCH_SQLITE_CHUNKS and BENCH_PG_CHUNKS (comma lists)
// change the sizes, e.g. BENCH_PG_CHUNKS=10000,100000. Writes its section of docs/benchmarks.md.
import fs from 'node:fs'
import { sql } from 'kysely'
import os from 'node:os'
import path from 'node:path'
import { parseConfig } from '../src/config/load.js'
import { setLogLevel } from '../src/logger.js'
import { Extractor } from '../src/domain/retrieval/extractor.js'
import { Ingestion } from '../src/domain/retrieval/ingest.js'
import { Retrieval } from '../src/domain/retrieval/search.js'
import type { Embedder } from '../src/domain/retrieval/embedder.js'
import { fileKey } from '../src/domain/files/file-object.js'
import type { ProjectPrincipal } from '../src/principal.js'
import { hashEmbedding } from '../src/providers/test/embed.js'
import { ProviderRegistry } from '../src/providers/registry.js'
import { DiskBlobStore } from '../src/storage/blobs/disk.js'
import { createVectorIndex, type StorageConfig } from '../src/storage/dialect.js'
import { newId, nowSeconds } from '../src/storage/ids.js'
import { createRepos } from '../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../src/storage/storage.js'
import type { VectorIndex } from '../src/storage/vector-index/vector-index.js'
import { writeBenchmarkSection } from './docs-section.js'

const root = path.resolve(import.meta.dirname, '..')
const DIMS = 1536
const LATENT = 32
const CHUNKS_PER_FILE = 1000
const CHUNK_TOKENS = 100
const TOPICS = 200
const SECTION = '## Vector stores (`npm run bench:vectors`)'
const sizes = (value: string | undefined, fallback: number[]) =>
  value ? value.split(',').map((s) => Number(s.trim())).filter((n) => n > 0) : fallback
const SQLITE_SIZES = sizes(process.env.BENCH_SQLITE_CHUNKS, [10_000, 100_000])
const PG_SIZES = sizes(process.env.BENCH_PG_CHUNKS, [10_000])
const QUERIES = Number(process.env.BENCH_QUERIES ?? 100)
const EXACT_QUERIES = Number(process.env.BENCH_EXACT_QUERIES ?? 30)
const PG_URL = process.env.TEST_PG_URL

// ---- the stub model: structured vectors, derived from the text ----

let seed = 12345
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const gauss = (rnd = random) => Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd())
const basis = Array.from({ length: DIMS }, () => Float32Array.from({ length: LATENT }, () => gauss()))
const centers = Array.from({ length: TOPICS }, () => Float32Array.from({ length: LATENT }, () => gauss()))

function hashSeed(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/** A chunk's vector: its topic's point in the latent space, moved by its own text, mapped out. */
function embedText(text: string, spread = 0.8): Float32Array {
  const topic = Number(/topic(\d+)/.exec(text)?.[1] ?? hashSeed(text) % TOPICS) % TOPICS
  let s = hashSeed(text) || 1
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const z = centers[topic].map((c) => c + gauss(rnd) * spread)
  const out = new Float32Array(DIMS)
  let norm = 0
  for (let i = 0; i < DIMS; i++) {
    let v = gauss(rnd) * 1.5
    const b = basis[i]
    for (let j = 0; j < LATENT; j++) v += b[j] * z[j]
    out[i] = v
    norm += v * v
  }
  norm = Math.sqrt(norm)
  for (let i = 0; i < DIMS; i++) out[i] /= norm
  return out
}

/** The extraction worker, timed: reading and chunking a file is Plinth's work, apart from writes. */
class TimedExtractor extends Extractor {
  ms = 0
  override async run(...args: Parameters<Extractor['run']>) {
    const t0 = performance.now()
    try {
      return await super.run(...args)
    } finally {
      this.ms += performance.now() - t0
    }
  }
}

/** The embedding model Plinth calls, timed: what the model costs is counted apart from Plinth. */
class StubEmbedder {
  ms = 0
  calls = 0
  check() {}
  async embed(_model: string, texts: string[]): Promise<{ vectors: Float32Array[]; inputTokens: number }> {
    const t0 = performance.now()
    const out = texts.map((t) => embedText(t))
    this.ms += performance.now() - t0
    this.calls += texts.length
    return { vectors: out, inputTokens: texts.length }
  }
}

const WORDS = Array.from({ length: 3000 }, (_, i) => {
  const syllables = ['ka', 'lo', 'mi', 're', 'tu', 'va', 'ze', 'do', 'fe', 'gri', 'ha', 'ju', 'no', 'si', 'we', 'pa']
  let w = ''
  let n = i + 7
  for (let k = 0; k < 3; k++) {
    w += syllables[n % 16]
    n = Math.floor(n / 16) + k * 5
  }
  return w
})

/** A file of about CHUNKS_PER_FILE chunks of CHUNK_TOKENS tokens about one topic. */
function fileText(fileNo: number): string {
  const topic = fileNo % TOPICS
  const parts: string[] = []
  // about 100 tokens per chunk: each sentence names its topic so every chunk carries it
  for (let i = 0; i < Math.round(CHUNKS_PER_FILE * 3.66); i++) {
    const words = Array.from({ length: 10 }, () => WORDS[Math.floor(random() * WORDS.length)])
    parts.push(`topic${topic} ${words.join(' ')}.`)
  }
  return parts.join(' ')
}

// ---- measuring ----

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function timeEach<T>(count: number, fn: (i: number) => Promise<T>) {
  const times: number[] = []
  const results: T[] = []
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    results.push(await fn(i))
    times.push(performance.now() - t0)
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), results }
}

type IngestRow = { backend: string; chunks: number; seconds: number; embedMs: number; ownMsPerChunk: number; extractMsPerChunk: number }
type SearchRow = {
  backend: string
  chunks: number
  vector: { p50: number; p99: number }
  exact: { p50: number; p99: number }
  keyword: { p50: number; p99: number }
  hybrid: { p50: number; p99: number }
  recall: number
}

const PROJECT = 'proj_bench'
const principal = { projectId: PROJECT, orgId: 'org_bench', keyId: 'key_bench', kind: 'project', permissions: { mode: 'all' } } as ProjectPrincipal

async function backend(name: string, config: StorageConfig, chunkSizes: number[], dir: string) {
  const storage = await openStorage(config)
  const index = createVectorIndex(storage.dialect)
  const status = await index.prepare(storage.db)
  if (!status.ready) throw new Error(`${name}: ${status.reason}`)
  const blobs = await DiskBlobStore.open(path.join(dir, `blobs-${name}`))
  const embedder = new StubEmbedder()
  const extractor = new TimedExtractor()
  const limits = parseConfig({ dataDir: dir }).vectorStores
  const ingestion = new Ingestion({ storage, blobs, index, embedder: embedder as unknown as Embedder, extractor, limits })
  const ingests: IngestRow[] = []
  const searches: SearchRow[] = []
  let fileNo = 0
  try {
    for (const chunks of chunkSizes) {
      const storeId = newId('vs_')
      await createRepos(storage.db).vectorStores.insert({
        id: storeId,
        project_id: PROJECT,
        org_id: 'org_bench',
        created_at: nowSeconds(),
        name: `bench ${chunks}`,
        description: null,
        metadata: null,
        expires_after_days: null,
        expires_at: null,
        last_active_at: nowSeconds(),
        expired_at: null,
        embedding_model: 'stub',
        chunking_strategy: null,
      })
      const files = Math.ceil(chunks / CHUNKS_PER_FILE)
      embedder.ms = 0
      embedder.calls = 0
      extractor.ms = 0
      let wall = 0
      for (let f = 0; f < files; f++) {
        const attachment = await addFile(storage, blobs, storeId, fileNo++)
        const t0 = performance.now()
        await ingestion.run(
          { projectId: PROJECT, storeId, attachmentId: attachment },
          { signal: new AbortController().signal, lastAttempt: true },
        )
        wall += performance.now() - t0
        const row = await createRepos(storage.db).vectorStoreFiles.byId(attachment)
        if (row?.status !== 'completed') throw new Error(`file ${f} ended ${row?.status}: ${row?.last_error}`)
        if (f % 10 === 9) console.error(`${name}: ingested ${embedder.calls} chunks`)
      }
      const count = embedder.calls
      const ingest = {
        backend: name,
        chunks: count,
        seconds: wall / 1000,
        embedMs: embedder.ms,
        ownMsPerChunk: (wall - embedder.ms) / count,
        extractMsPerChunk: extractor.ms / count,
      }
      ingests.push(ingest)
      console.error(`${name}: ${count} chunks in ${ingest.seconds.toFixed(1)} s; Plinth's own ${ingest.ownMsPerChunk.toFixed(3)} ms/chunk`)
      searches.push(await search(name, storage, index, embedder, storeId, count))
    }
  } finally {
    await extractor.close()
    await storage.close()
  }
  return { ingests, searches }
}

async function addFile(storage: Storage, blobs: DiskBlobStore, storeId: string, fileNo: number): Promise<string> {
  const fileId = newId('file-')
  const text = Buffer.from(fileText(fileNo))
  const staged = await blobs.writeTemp((async function* () { yield text })())
  await blobs.commit(staged, fileKey(fileId))
  const repos = createRepos(storage.db)
  await repos.files.insert({
    id: fileId,
    project_id: PROJECT,
    bytes: text.length,
    created_at: nowSeconds(),
    expires_at: null,
    filename: `bench-${fileNo}.txt`,
    purpose: 'assistants',
    status: 'processed',
    status_details: null,
    mime_type: 'text/plain',
    state: 'ready',
  })
  const attachment = newId('vsf_')
  await repos.vectorStoreFiles.insert({
    id: attachment,
    vector_store_id: storeId,
    file_id: fileId,
    project_id: PROJECT,
    created_at: nowSeconds(),
    status: 'in_progress',
    last_error: null,
    usage_bytes: 0,
    chunking: JSON.stringify({ max_chunk_size_tokens: CHUNK_TOKENS, chunk_overlap_tokens: 0 }),
    attributes: JSON.stringify({ group: fileNo % 10 }),
    filename: `bench-${fileNo}.txt`,
    batch_id: null,
    chunk_count: null,
  })
  return attachment
}

async function search(name: string, storage: Storage, index: VectorIndex, embedder: StubEmbedder, storeId: string, chunks: number): Promise<SearchRow> {
  const stats = await createRepos(storage.db).vectorStoreFiles.searchStats([storeId])
  const scope = { storeIds: [storeId], stats }
  // queries near stored chunks: a chunk's topic, its own words, a vector of the same topic
  const { rows: seqs } = await sql<{ seq: number }>`
    select seq from vector_store_chunks where vector_store_id = ${storeId} order by seq`.execute(storage.db)
  const picked = Array.from({ length: QUERIES }, (_, i) => Number(seqs[Math.floor(((i + 0.5) / QUERIES) * seqs.length)].seq))
  const sample = await index.load(storage.db, picked)
  const queries = sample.map((r, i) => {
    const words = r.text.split(/\s+/).filter((w) => !w.startsWith('topic')).slice(i % 5, (i % 5) + 3)
    const topic = /topic\d+/.exec(r.text)?.[0] ?? ''
    return { text: `${topic} ${words.join(' ')}`, embedding: embedText(`${topic} query ${i}`) }
  })
  const vector = await timeEach(queries.length, (i) => index.vectorSearch(storage.db, { ...scope, embedding: queries[i].embedding, limit: 10 }))
  const exact = await timeEach(Math.min(EXACT_QUERIES, queries.length), (i) =>
    index.vectorSearch(storage.db, { ...scope, embedding: queries[i].embedding, limit: 10, exact: true }),
  )
  let found = 0
  exact.results.forEach((truth, i) => {
    const want = new Set(truth.map((h) => h.seq))
    found += vector.results[i].filter((h) => want.has(h.seq)).length
  })
  const recall = found / (exact.results.length * 10)
  const keyword = await timeEach(queries.length, (i) =>
    index.keywordSearch(storage.db, { ...scope, terms: queries[i].text.split(' '), limit: 20 }),
  )
  const retrieval = new Retrieval(storage, index, embedder as unknown as Embedder)
  const hybrid = await timeEach(queries.length, (i) => retrieval.search(principal, [storeId], queries[i].text, { maxNumResults: 10 }))
  const row = { backend: name, chunks, vector, exact, keyword, hybrid, recall }
  console.error(
    `${name} ${chunks}: vector p50 ${vector.p50.toFixed(1)} ms (exact ${exact.p50.toFixed(1)}), recall@10 ${recall.toFixed(3)}, keyword p50 ${keyword.p50.toFixed(1)}, hybrid p50 ${hybrid.p50.toFixed(1)}`,
  )
  return row
}

/** Embedding cost per chunk of the models Plinth ships with: test-embed, and stories260K if present. */
async function modelCosts(dir: string) {
  const texts = Array.from({ length: 64 }, (_, i) => fileText(i).slice(0, 600))
  let t0 = performance.now()
  for (const text of texts) hashEmbedding(text, DIMS)
  const testEmbed = (performance.now() - t0) / texts.length
  const gguf = path.resolve(root, '../shared/models/stories260K.gguf')
  let stories: number | undefined
  if (fs.existsSync(gguf)) {
    const registry = await ProviderRegistry.create(
      parseConfig({ dataDir: dir, llama: { modelsDir: path.dirname(gguf), defaults: { threads: 1 } } }),
    )
    try {
      const { provider, upstreamModel } = registry.resolve('stories260K')
      const signal = new AbortController().signal
      await provider.embed!({ model: upstreamModel, inputs: texts.slice(0, 4), signal })
      t0 = performance.now()
      for (let i = 0; i < texts.length; i += 8) await provider.embed!({ model: upstreamModel, inputs: texts.slice(i, i + 8), signal })
      stories = (performance.now() - t0) / texts.length
    } finally {
      await registry.close()
    }
  }
  return { testEmbed, stories }
}

function report(ingests: IngestRow[], searches: SearchRow[], costs: { testEmbed: number; stories?: number }) {
  const f = (n: number, d = 1) => n.toFixed(d)
  const share = (own: number, model: number) => `${f((100 * own) / (own + model), 0)}%`
  const lines = [
    SECTION,
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores shared with other work, Node ${process.version}. ` +
      `Vectors of ${DIMS} dimensions with an embedding's structure (bench/vectors.ts); chunks of ${CHUNK_TOKENS} tokens ` +
      `from files of ${CHUNKS_PER_FILE} chunks, through the ingest job (worker extraction and chunking, embedding, index writes).`,
    '',
    '### Ingestion',
    '',
    `Embedding per chunk: test-embed ${f(costs.testEmbed, 3)} ms` + (costs.stories ? `, stories260K.gguf ${f(costs.stories, 3)} ms` : '') + '.',
    '',
    '| backend | chunks | wall s | chunks/s | stub model s | Plinth ms/chunk | of which extraction + chunking | Plinth share vs test-embed | vs stories260K |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...ingests.map(
      (r) =>
        `| ${r.backend} | ${r.chunks} | ${f(r.seconds)} | ${f(r.chunks / r.seconds, 0)} | ${f(r.embedMs / 1000)} | ${f(r.ownMsPerChunk, 3)} | ${f(r.extractMsPerChunk, 3)} | ${share(r.ownMsPerChunk, costs.testEmbed)} | ${costs.stories ? share(r.ownMsPerChunk, costs.stories) : '-'} |`,
    ),
    '',
    '### Search (ms per query; exact search is the baseline of the same run)',
    '',
    '| backend | chunks | vector p50 | vector p99 | exact p50 | vector / exact | recall@10 vs exact | keyword p50 | hybrid p50 | hybrid p99 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...searches.map(
      (r) =>
        `| ${r.backend} | ${r.chunks} | ${f(r.vector.p50)} | ${f(r.vector.p99)} | ${f(r.exact.p50)} | ${f(r.vector.p50 / r.exact.p50, 3)} | ${f(r.recall, 3)} | ${f(r.keyword.p50)} | ${f(r.hybrid.p50)} | ${f(r.hybrid.p99)} |`,
    ),
    '',
  ]
  return lines.join('\n')
}

async function main() {
  setLogLevel('warn')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-vectors-'))
  const ingests: IngestRow[] = []
  const searches: SearchRow[] = []
  try {
    const costs = await modelCosts(dir)
    console.error(`embedding per chunk: test-embed ${costs.testEmbed.toFixed(3)} ms, stories260K ${costs.stories?.toFixed(3) ?? '-'} ms`)
    const sqlite = await backend('sqlite', { kind: 'sqlite', path: path.join(dir, 'bench.db') }, SQLITE_SIZES, dir)
    ingests.push(...sqlite.ingests)
    searches.push(...sqlite.searches)
    if (PG_URL && PG_SIZES.length) {
      const schema = `bench_vectors_${process.pid}`
      try {
        const pg = await backend('postgres', { kind: 'postgres', url: PG_URL, schema }, PG_SIZES, dir)
        ingests.push(...pg.ingests)
        searches.push(...pg.searches)
      } finally {
        const { default: pgLib } = await import('pg')
        const client = new pgLib.Client({ connectionString: PG_URL })
        await client.connect()
        if (process.env.BENCH_KEEP_SCHEMA) console.error(`kept schema ${schema}`)
        else await client.query(`drop schema if exists ${schema} cascade`)
        await client.end()
      }
    } else console.error('PostgreSQL skipped: set TEST_PG_URL')
    const text = report(ingests, searches, costs)
    console.log(text)
    if (process.env.BENCH_WRITE_DOCS !== '0') writeBenchmarkSection(SECTION, text)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
