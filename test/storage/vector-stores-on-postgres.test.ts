import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { openStorage } from '../../src/storage/storage.js'
import { SqliteVecIndex } from '../../src/storage/vector-index/sqlite-vec.js'
import { docxDocument } from '../helpers/documents.js'
import { describePg, pgTestUrl, withPgSchema, type PgSchema } from '../helpers/pg.js'
import { validatingFetch } from '../helpers/validating-fetch.js'

// Vector stores through the SDK on PostgreSQL (pgvector + full-text search), responses checked
// against the spec; and what Plinth does when the vector index cannot work: it starts, says why,
// and answers vector store requests with a 503 naming what to install.

const ADMIN_KEY = 'sk-admin-pgvec-0000000000000000000000'
const PROJECT_KEY = 'sk-proj-pgvec-00000000000000000000000'

async function appOn(storageConfig: Parameters<typeof openStorage>[0]) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pg-vectors-'))
  const config = parseConfig({
    dataDir,
    bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
    testModels: { enabled: true },
  })
  const ctx = await createContext(config, { storage: await openStorage(storageConfig) })
  const app = createApp(ctx)
  const client = new OpenAI({
    apiKey: PROJECT_KEY,
    baseURL: 'http://plinth.test/v1',
    maxRetries: 0,
    fetch: validatingFetch((async (url: string, init: RequestInit) => app.request(url, init)) as typeof fetch),
  })
  return {
    ctx,
    client,
    close: async () => {
      await ctx.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

describePg('vector stores on postgres', () => {
  let pgSchema: PgSchema
  let t: Awaited<ReturnType<typeof appOn>>
  let ctx: AppContext
  let client: OpenAI

  beforeAll(async () => {
    pgSchema = withPgSchema('vectors_app')
    t = await appOn(pgSchema.config)
    ctx = t.ctx
    client = t.client
    ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    await pgSchema?.drop()
  })

  it('ingests, searches with filters and lists content with pgvector', async () => {
    expect(ctx.services.retrieval.index.status()).toEqual({ ready: true })
    const store = await client.vectorStores.create({ name: 'pg' })
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(
      store.id,
      {
        files: [
          await toFile(Buffer.from('Saturn has prominent rings made of ice.'), 'saturn.txt'),
          await toFile(docxDocument(['Mars is called the red planet.']), 'mars.docx'),
        ],
      },
      { pollIntervalMs: 50 },
    )
    expect(batch.file_counts).toMatchObject({ completed: 2, total: 2 })
    const files = await client.vectorStores.files.list(store.id)
    const mars = files.data[0]
    await client.vectorStores.files.update(mars.id, { vector_store_id: store.id, attributes: { kind: 'planet', order: 4 } })
    const found = await client.vectorStores.search(store.id, { query: 'rings of ice' })
    expect(found.data[0]).toMatchObject({ filename: 'saturn.txt', content: [{ type: 'text', text: 'Saturn has prominent rings made of ice.' }] })
    const filtered = await client.vectorStores.search(store.id, { query: 'planet rings', filters: { type: 'gte', key: 'order', value: 4 } })
    expect(filtered.data.map((r) => r.file_id)).toEqual([mars.id])
    const content = await client.vectorStores.files.content(mars.id, { vector_store_id: store.id })
    expect(content.data.length).toBe(1)
    const retrieved = await client.vectorStores.retrieve(store.id)
    expect(retrieved.usage_bytes).toBe(files.data.reduce((sum, f) => sum + f.usage_bytes, 0))
    await client.vectorStores.delete(store.id)
    await expect(client.vectorStores.retrieve(store.id)).rejects.toMatchObject({ status: 404 })
  })
})

describe('a vector index that cannot work', () => {
  it('on PostgreSQL without the vector type in reach: Plinth starts, and vector stores answer 503 naming pgvector', async () => {
    const url = pgTestUrl()
    if (!url) return
    const schema = withPgSchema('novector')
    // the schema alone on the path: the extension's type (in public) is out of reach
    const hidden = { kind: 'postgres' as const, url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema.schema}`)}` }
    await openStorage({ ...schema.config }).then((s) => s.close())
    const app = await appOn(hidden)
    try {
      const status = app.ctx.services.retrieval.index.status()
      expect(status.ready).toBe(false)
      expect(!status.ready && status.reason).toMatch(/pgvector/)
      // everything else is served
      expect((await app.client.models.list()).data.length).toBeGreaterThan(0)
      const refused = await app.client.vectorStores.create({ name: 'x' }).catch((error) => error)
      expect(refused).toMatchObject({ status: 503, error: { type: 'server_error', code: 'vector_index_unavailable' } })
      expect(refused.error.message).toMatch(/^Vector stores are unavailable on this server: .*CREATE EXTENSION vector/)
      expect(refused.headers.get('x-should-retry')).toBe('false')
    } finally {
      await app.close()
      await schema.drop()
    }
  })

  it('on SQLite without sqlite-vec loaded: prepare says what is missing', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    try {
      const status = await new SqliteVecIndex().prepare(db)
      expect(status.ready).toBe(false)
      expect(!status.ready && status.reason).toMatch(/sqlite-vec extension could not be loaded/)
    } finally {
      await db.destroy()
    }
  })
})
