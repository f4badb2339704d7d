import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Filter } from '../../src/schemas/vector-stores.js'
import { createVectorIndex } from '../../src/storage/dialect.js'
import { newId, nowSeconds } from '../../src/storage/ids.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { VectorStoreFileRow } from '../../src/storage/repositories/vector-stores.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { EXACT_MAX_CHUNKS, type VectorIndex } from '../../src/storage/vector-index/vector-index.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The vector stores' repositories and the vector index (sqlite-vec + FTS5, pgvector + full-text
// search) hold to one contract on every dialect.

const PROJECT = 'proj_vs'

/** Deterministic unit vectors: `base` plus a little of `noise`, so neighbours are known. */
function vector(dims: number, seed: number, near?: Float32Array, spread = 0.3): Float32Array {
  let s = seed * 9301 + 49297
  const random = () => ((s = (s * 233280 + 49297) % 2147483647) / 2147483647) * 2 - 1
  const out = new Float32Array(dims)
  let norm = 0
  for (let i = 0; i < dims; i++) {
    out[i] = (near ? near[i] : 0) + random() * (near ? spread : 1)
    norm += out[i] * out[i]
  }
  for (let i = 0; i < dims; i++) out[i] /= Math.sqrt(norm)
  return out
}

describe.each(storageCases())('vector stores on $name', ({ name, create }) => {
  let storage: Storage
  let index: VectorIndex
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const c = create('vectors')
    cleanup = c.cleanup
    storage = await openStorage(c.config)
    index = createVectorIndex(storage.dialect)
    expect(await index.prepare(storage.db)).toEqual({ ready: true })
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  async function store(id = newId('vs_')) {
    await createRepos(storage.db).vectorStores.insert({
      id,
      project_id: PROJECT,
      org_id: 'org_1',
      created_at: nowSeconds(),
      name: 'test',
      description: null,
      metadata: null,
      expires_after_days: null,
      expires_at: null,
      last_active_at: nowSeconds(),
      expired_at: null,
      embedding_model: 'test-embed',
      chunking_strategy: null,
    })
    return id
  }

  async function attachment(storeId: string, over: Partial<VectorStoreFileRow> = {}) {
    const row: VectorStoreFileRow = {
      id: newId('vsf_'),
      vector_store_id: storeId,
      file_id: newId('file-'),
      project_id: PROJECT,
      created_at: nowSeconds(),
      status: 'completed',
      last_error: null,
      usage_bytes: 0,
      chunking: JSON.stringify({ max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }),
      attributes: null,
      filename: 'f.txt',
      batch_id: null,
      chunk_count: 0,
      ...over,
    }
    await createRepos(storage.db).vectorStoreFiles.insert(row)
    return row
  }

  async function add(a: VectorStoreFileRow, texts: string[], vectors: Float32Array[]) {
    const added = await storage.transaction((tx) =>
      index.insert(
        tx.db,
        texts.map((text, i) => ({ storeId: a.vector_store_id, attachmentId: a.id, index: i, text, tokens: 3, embedding: vectors[i] })),
      ),
    )
    await createRepos(storage.db).vectorStoreFiles.update(a.id, { chunk_count: texts.length })
    return added
  }

  const stats = async (storeIds: string[]) => createRepos(storage.db).vectorStoreFiles.searchStats(storeIds)

  it('inserts chunks once: a second insert of the same positions adds nothing', async () => {
    const s = await store()
    const a = await attachment(s)
    const vectors = [vector(16, 1), vector(16, 2)]
    expect(await add(a, ['alpha', 'beta'], vectors)).toEqual([0, 1])
    expect(await add(a, ['alpha', 'beta'], vectors)).toEqual([])
    expect([...(await index.indexed(storage.db, a.id))].sort()).toEqual([0, 1])
    expect((await index.chunks(storage.db, a.id, 0, 10)).map((c) => c.text)).toEqual(['alpha', 'beta'])
    expect((await index.chunks(storage.db, a.id, 1, 10)).map((c) => c.text)).toEqual(['beta'])
  })

  it('finds the nearest vectors and the best keyword matches, only in completed files of the store', async () => {
    const s = await store()
    const other = await store()
    const base = vector(32, 7)
    const done = await attachment(s, { filename: 'done.txt' })
    const pending = await attachment(s, { status: 'in_progress' })
    const elsewhere = await attachment(other)
    await add(done, ['the quick brown fox', 'lazy dogs sleep all day', 'unrelated text'], [vector(32, 8, base, 0.05), vector(32, 9), vector(32, 10)])
    await add(pending, ['quick fox pending'], [vector(32, 11, base, 0.01)])
    await add(elsewhere, ['quick fox elsewhere'], [vector(32, 12, base, 0.01)])
    const scope = { storeIds: [s], stats: await stats([s]) }
    const near = await index.vectorSearch(storage.db, { ...scope, embedding: base, limit: 2 })
    const records = await index.load(storage.db, near.map((h) => h.seq))
    const byId = new Map(records.map((r) => [r.seq, r]))
    expect(byId.get(near[0].seq)).toMatchObject({ text: 'the quick brown fox', fileId: done.file_id, filename: 'done.txt', storeId: s })
    expect(near[0].score).toBeGreaterThan(near[1].score)
    expect(records.every((r) => r.attachmentId === done.id)).toBe(true)
    const words = await index.keywordSearch(storage.db, { ...scope, terms: ['fox', 'foxes'], limit: 10 })
    expect((await index.load(storage.db, words.map((h) => h.seq))).map((r) => r.text)).toEqual(['the quick brown fox'])
    // stemming: "sleeping" finds "sleep"
    const stemmed = await index.keywordSearch(storage.db, { ...scope, terms: ['sleeping'], limit: 10 })
    expect((await index.load(storage.db, stemmed.map((h) => h.seq))).map((r) => r.text)).toEqual(['lazy dogs sleep all day'])
  })

  it('applies attribute filters inside the query: comparison, compound, in and nin, typed', async () => {
    const s = await store()
    const rows = [
      { color: 'red', size: 3, public: true },
      { color: 'blue', size: 10, public: false },
      { color: 'red', size: 7.5 },
      null,
    ]
    const texts = ['red small', 'blue large', 'red medium', 'no attributes']
    for (const [i, attributes] of rows.entries()) {
      const a = await attachment(s, { attributes: attributes ? JSON.stringify(attributes) : null })
      await add(a, [texts[i]], [vector(8, 20 + i)])
    }
    const scope = { storeIds: [s], stats: await stats([s]) }
    const found = async (filter: Filter) => {
      const hits = await index.vectorSearch(storage.db, { ...scope, filter, embedding: vector(8, 1), limit: 10 })
      return (await index.load(storage.db, hits.map((h) => h.seq))).map((r) => r.text).sort()
    }
    expect(await found({ type: 'eq', key: 'color', value: 'red' })).toEqual(['red medium', 'red small'])
    expect(await found({ type: 'ne', key: 'color', value: 'red' })).toEqual(['blue large', 'no attributes'])
    expect(await found({ type: 'gt', key: 'size', value: 3 })).toEqual(['blue large', 'red medium'])
    expect(await found({ type: 'gte', key: 'size', value: 3 })).toEqual(['blue large', 'red medium', 'red small'])
    expect(await found({ type: 'lt', key: 'size', value: 7.5 })).toEqual(['red small'])
    expect(await found({ type: 'lte', key: 'color', value: 'blue' })).toEqual(['blue large'])
    expect(await found({ type: 'eq', key: 'public', value: true })).toEqual(['red small'])
    expect(await found({ type: 'eq', key: 'size', value: '3' })).toEqual([])
    expect(await found({ type: 'in', key: 'size', value: [3, 10] })).toEqual(['blue large', 'red small'])
    expect(await found({ type: 'nin', key: 'color', value: ['red'] })).toEqual(['blue large', 'no attributes'])
    expect(
      await found({
        type: 'or',
        filters: [
          { type: 'and', filters: [{ type: 'eq', key: 'color', value: 'red' }, { type: 'gt', key: 'size', value: 5 }] },
          { type: 'eq', key: 'color', value: 'blue' },
        ],
      }),
    ).toEqual(['blue large', 'red medium'])
    const words = await index.keywordSearch(storage.db, { ...scope, filter: { type: 'eq', key: 'color', value: 'blue' }, terms: ['red', 'blue'], limit: 10 })
    expect((await index.load(storage.db, words.map((h) => h.seq))).map((r) => r.text)).toEqual(['blue large'])
  })

  it.each([512, 64])(`past ${EXACT_MAX_CHUNKS} chunks searches the vec0 index (quantized from 256 dimensions, then rescored): %i dimensions find what exact search finds`, async (dims) => {
    const s = await store()
    // embeddings have structure: points of a 16-dimensional space, mapped into `dims`, plus noise
    const basis = Array.from({ length: 16 }, (_, i) => vector(dims, 1000 + i))
    const point = (seed: number) => {
      const out = vector(dims, seed + 7_000_000)
      const z = vector(16, seed)
      for (let j = 0; j < 16; j++) for (let i = 0; i < dims; i++) out[i] += basis[j][i] * z[j] * 4
      let norm = 0
      for (const v of out) norm += v * v
      return out.map((v) => v / Math.sqrt(norm))
    }
    const count = EXACT_MAX_CHUNKS + 500
    const half = Math.floor(count / 2)
    const first = await attachment(s, { attributes: JSON.stringify({ part: 1 }) })
    const second = await attachment(s, { attributes: JSON.stringify({ part: 2 }) })
    for (const [a, from, to] of [[first, 0, half], [second, half, count]] as const) {
      for (let start = from; start < to; start += 500) {
        const end = Math.min(to, start + 500)
        await storage.transaction((tx) =>
          index.insert(
            tx.db,
            Array.from({ length: end - start }, (_, k) => ({
              storeId: s,
              attachmentId: a.id,
              index: start - from + k,
              text: `chunk ${start + k}`,
              tokens: 2,
              embedding: point(start + k),
            })),
          ),
        )
      }
      await createRepos(storage.db).vectorStoreFiles.update(a.id, { chunk_count: to - from })
    }
    const scope = { storeIds: [s], stats: await stats([s]) }
    expect(scope.stats).toEqual({ chunks: count, otherFiles: false })
    let overlap = 0
    for (let q = 0; q < 10; q++) {
      const query = point(50_000 + q)
      const exact = await index.vectorSearch(storage.db, { ...scope, embedding: query, limit: 10, exact: true })
      const fast = await index.vectorSearch(storage.db, { ...scope, embedding: query, limit: 10 })
      const truth = new Set(exact.map((h) => h.seq))
      overlap += fast.filter((h) => truth.has(h.seq)).length
      // a filter narrows the quantized pass to the chunks in scope
      const filtered = await index.vectorSearch(storage.db, { ...scope, filter: { type: 'eq', key: 'part', value: 2 }, embedding: query, limit: 10 })
      const parts = await index.load(storage.db, filtered.map((h) => h.seq))
      expect(parts.length).toBe(10)
      expect(parts.every((r) => r.attachmentId === second.id)).toBe(true)
    }
    expect(overlap / 100).toBeGreaterThanOrEqual(dims < 256 ? 1 : 0.9)
  })

  it('purges an attachment or a store in pages, leaving others whole', async () => {
    const s = await store()
    const keep = await attachment(s)
    const drop = await attachment(s)
    await add(keep, ['keep one', 'keep two'], [vector(8, 1), vector(8, 2)])
    await add(drop, ['drop one', 'drop two', 'drop three'], [vector(8, 3), vector(8, 4), vector(8, 5)])
    expect(await storage.transaction((tx) => index.purge(tx.db, { attachmentId: drop.id }, 2))).toBe(2)
    expect(await storage.transaction((tx) => index.purge(tx.db, { attachmentId: drop.id }, 2))).toBe(1)
    expect(await storage.transaction((tx) => index.purge(tx.db, { attachmentId: drop.id }, 2))).toBe(0)
    expect((await index.indexed(storage.db, keep.id)).size).toBe(2)
    const words = await index.keywordSearch(storage.db, { storeIds: [s], stats: await stats([s]), terms: ['drop', 'keep'], limit: 10 })
    expect((await index.load(storage.db, words.map((h) => h.seq))).map((r) => r.text).sort()).toEqual(['keep one', 'keep two'])
    expect(await storage.transaction((tx) => index.purge(tx.db, { storeId: s }, 100))).toBe(2)
  })

  it('tallies files by status and bytes per store and batch; lists with file-id cursors', async () => {
    const s = await store()
    const repos = createRepos(storage.db)
    const rows = [
      await attachment(s, { status: 'completed', usage_bytes: 100, batch_id: 'vsfb_1' }),
      await attachment(s, { status: 'failed', batch_id: 'vsfb_1' }),
      await attachment(s, { status: 'in_progress', usage_bytes: 5 }),
    ]
    const tally = (await repos.vectorStoreFiles.tallyByStore([s])).get(s)
    expect(tally).toEqual({ in_progress: 1, completed: 1, failed: 1, cancelled: 0, usage_bytes: 105 })
    expect((await repos.vectorStoreFiles.tallyByBatch(['vsfb_1'])).get('vsfb_1')).toMatchObject({ completed: 1, failed: 1 })
    const page = await repos.vectorStoreFiles.list(s, { limit: 1, order: 'asc', after: rows[0].file_id })
    expect(page.rows.map((r) => r.file_id)).toEqual([rows[1].file_id])
    expect(page.hasMore).toBe(true)
    const failed = await repos.vectorStoreFiles.list(s, { limit: 10, order: 'desc', status: 'failed' })
    expect(failed.rows.map((r) => r.id)).toEqual([rows[1].id])
  })

  it('records the daily usage snapshot exactly once per change', async () => {
    const repos = createRepos(storage.db)
    expect(await repos.vectorStoreUsageDays.get('proj_x', 86400)).toBeUndefined()
    await repos.vectorStoreUsageDays.set('proj_x', 86400, 10)
    await repos.vectorStoreUsageDays.set('proj_x', 86400, 25)
    expect(await repos.vectorStoreUsageDays.get('proj_x', 86400)).toBe(25)
    expect(await repos.vectorStoreUsageDays.ofDay(86400)).toEqual([{ project_id: 'proj_x', usage_bytes: 25 }])
    void name
  })
})

skippedPgCase('vector stores on postgres')
