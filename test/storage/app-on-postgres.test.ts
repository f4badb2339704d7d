import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { openStorage } from '../../src/storage/storage.js'
import { describePg, pgQuery, withPgSchema, type PgSchema } from '../helpers/pg.js'

// The whole stack (auth, bootstrap, inference, usage, stored completions) on PostgreSQL, driven by
// the official SDK in-process. Built here rather than through createTestApp so the storage can
// be opened on a fresh schema.

const ADMIN_KEY = 'sk-admin-pgtest-000000000000000000000'
const PROJECT_KEY = 'sk-proj-pgtest-0000000000000000000000'

describePg('the app on postgres', () => {
  let pgSchema: PgSchema
  let dataDir: string
  let ctx: AppContext
  let client: OpenAI

  beforeAll(async () => {
    pgSchema = withPgSchema('app')
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pg-app-'))
    const config = parseConfig({
      dataDir,
      bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
      testModels: { enabled: true },
    })
    ctx = await createContext(config, { storage: await openStorage(pgSchema.config) })
    const app = createApp(ctx)
    client = new OpenAI({
      apiKey: PROJECT_KEY,
      baseURL: 'http://plinth.test/v1',
      maxRetries: 0,
      fetch: async (url, init) => app.request(url as string, init as RequestInit),
    })
  })
  afterAll(async () => {
    await ctx?.close()
    await pgSchema?.drop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('runs on PostgreSQL, in its own schema', async () => {
    expect(ctx.storage.dialect).toBe('postgres')
    // bootstrap wrote the organization, project and keys there, and nowhere else
    const keys = await pgQuery(
      pgSchema.url,
      `select kind from ${pgSchema.schema}.api_keys order by kind`,
    )
    expect(keys.map((k) => k.kind)).toEqual(['admin', 'project'])
  })

  it('answers chat completions and stores them', async () => {
    const made = []
    for (const text of ['first on postgres', 'second on postgres', 'third on postgres']) {
      const completion = await client.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: text }],
        store: true,
        metadata: { run: 'pg' },
      })
      expect(completion.choices[0].message.content).toBe(text)
      made.push(completion)
    }

    const retrieved = await client.chat.completions.retrieve(made[1].id)
    expect(retrieved.id).toBe(made[1].id)
    expect(retrieved.choices[0].message.content).toBe('second on postgres')
    expect(typeof retrieved.created).toBe('number')

    const asc = await client.chat.completions.list({ order: 'asc', limit: 2 })
    expect(asc.data.map((c) => c.id)).toEqual([made[0].id, made[1].id])
    expect(asc.has_more).toBe(true)
    const all = []
    for await (const c of client.chat.completions.list({ order: 'asc', limit: 2 })) all.push(c.id)
    expect(all).toEqual(made.map((c) => c.id))
    const desc = await client.chat.completions.list({
      order: 'desc',
      limit: 10,
      metadata: { run: 'pg' },
    })
    expect(desc.data.map((c) => c.id)).toEqual(made.map((c) => c.id).reverse())
    expect(desc.has_more).toBe(false)

    const updated = await client.chat.completions.update(made[0].id, {
      metadata: { run: 'pg', edited: 'yes' },
    })
    expect((updated as unknown as { metadata: unknown }).metadata).toEqual({
      run: 'pg',
      edited: 'yes',
    })
    const deleted = await client.chat.completions.delete(made[2].id)
    expect(deleted).toMatchObject({ id: made[2].id, deleted: true })
    await expect(client.chat.completions.retrieve(made[2].id)).rejects.toMatchObject({
      status: 404,
    })
  })

  it('streams chat completions', async () => {
    const stream = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'streamed from postgres' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('streamed from postgres')
  })

  it('answers embeddings', async () => {
    const res = await client.embeddings.create({ model: 'test-embed', input: ['one', 'two'] })
    expect(res.data).toHaveLength(2)
    expect(res.data[0].embedding.length).toBeGreaterThan(0)
    expect(res.usage.prompt_tokens).toBeGreaterThan(0)
  })

  it('recorded usage rows with numeric token counts', async () => {
    const usage = () =>
      ctx.storage.db.selectFrom('usage_records').selectAll().orderBy('id').execute()
    const requests = (rows: { operation: string; requests: number }[], operation: string) =>
      rows.filter((r) => r.operation === operation).reduce((n, r) => n + r.requests, 0)
    // polled: how soon a usage row is written after its response is the recorder's business; rows
    // of one flush and second are summed (`requests` counts them)
    await expect.poll(async () => requests(await usage(), 'completions') + requests(await usage(), 'embeddings')).toBe(5)
    const rows = await usage()
    expect(requests(rows, 'completions')).toBe(4)
    expect(requests(rows, 'embeddings')).toBe(1)
    for (const r of rows) {
      expect(typeof r.requests).toBe('number')
      expect(typeof r.input_tokens).toBe('number')
      expect(typeof r.created_at).toBe('number')
    }
  })

  it('keeps files and uploads: bytes on disk, metadata in PostgreSQL', async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from('{"on":"postgres"}\n'), 'pg.jsonl'),
      purpose: 'batch',
    })
    expect((await client.files.list({ purpose: 'batch' })).data.map((f) => f.id)).toEqual([file.id])
    expect(await (await client.files.content(file.id)).text()).toBe('{"on":"postgres"}\n')
    const upload = await client.uploads.create({
      bytes: 6,
      filename: 'parts.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    })
    const parts = []
    for (const text of ['{}\n', '[]\n']) {
      parts.push(
        await client.uploads.parts.create(upload.id, {
          data: await toFile(Buffer.from(text), 'p'),
        }),
      )
    }
    const done = await client.uploads.complete(upload.id, {
      part_ids: parts.map((p) => p.id).reverse(),
    })
    expect(await (await client.files.content(done.file!.id)).text()).toBe('[]\n{}\n')
    expect(await client.files.delete(file.id)).toMatchObject({ deleted: true })
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 })
  })

  it('rejects an unknown key', async () => {
    const stranger = new OpenAI({
      apiKey: 'sk-proj-unknown-000000000000000000000',
      baseURL: 'http://plinth.test/v1',
      maxRetries: 0,
      fetch: async (url, init) => createApp(ctx).request(url as string, init as RequestInit),
    })
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401 })
  })
})
