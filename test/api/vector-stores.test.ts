import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { nowSeconds } from '../../src/storage/ids.js'
import { docxDocument, pdfDocument, pptxDocument } from '../helpers/documents.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// The Vector stores API end to end through the official SDK (every response checked against the
// spec by the validating fetch), with the job runner ingesting files.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp({ vectorStores: { maxFileBytes: 200_000 } })
  client = t.client()
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

async function file(name: string, content: string | Buffer) {
  return client.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'assistants' })
}

async function waitStore(id: string) {
  for (let i = 0; i < 400; i++) {
    const store = await client.vectorStores.retrieve(id)
    if (store.status !== 'in_progress') return store
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`vector store ${id} still in progress`)
}

describe('vector stores', () => {
  it('creates a store from files, ingests them, and keeps counts, bytes, status and expiry true', async () => {
    const a = await file('rivers.txt', 'The Danube flows through ten countries before reaching the Black Sea.')
    const b = await file('notes.md', '# Mountains\n\nMount Kilimanjaro is the highest mountain in Africa.')
    const created = await client.vectorStores.create({
      name: 'geography',
      file_ids: [a.id, b.id],
      expires_after: { anchor: 'last_active_at', days: 7 },
      metadata: { topic: 'geo' },
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
    })
    expect(created).toMatchObject({
      object: 'vector_store',
      name: 'geography',
      metadata: { topic: 'geo' },
      expires_after: { anchor: 'last_active_at', days: 7 },
    })
    expect(created.expires_at).toBe(created.last_active_at! + 7 * 86400)
    expect(created.file_counts.total).toBe(2)
    const done = await waitStore(created.id)
    expect(done.status).toBe('completed')
    expect(done.file_counts).toEqual({ in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 })
    expect(done.usage_bytes).toBeGreaterThan(2 * 1536 * 4)
    const files = await client.vectorStores.files.list(created.id)
    expect(files.data.map((f) => f.id).sort()).toEqual([a.id, b.id].sort())
    for (const f of files.data) {
      expect(f).toMatchObject({
        object: 'vector_store.file',
        status: 'completed',
        last_error: null,
        vector_store_id: created.id,
        chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
      })
    }
    expect(files.data.reduce((sum, f) => sum + f.usage_bytes, 0)).toBe(done.usage_bytes)
    // unset metadata and attributes read {}, as OpenAI shows them (never null)
    for (const f of files.data) expect(f.attributes).toEqual({})
    const found = await client.vectorStores.search(created.id, { query: 'Danube' })
    expect(found.data[0]).toMatchObject({ file_id: a.id, attributes: {} })
    const cleared = await client.vectorStores.files.update(a.id, { vector_store_id: created.id, attributes: null })
    expect(cleared.attributes).toEqual({})
    expect((await client.vectorStores.create({ name: 'bare' })).metadata).toEqual({})
    expect((await client.vectorStores.update(created.id, { metadata: null })).metadata).toEqual({})
    const content = await client.vectorStores.files.content(a.id, { vector_store_id: created.id })
    expect(content.data.map((c) => c.text)).toEqual([
      'The Danube flows through ten countries before reaching the Black Sea.',
    ])
  })

  it('lists, pages, modifies and deletes stores', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await client.vectorStores.create({ name: `page-${i}` })).id)
    const first = await client.vectorStores.list({ limit: 2, order: 'asc', after: ids[0] })
    expect(first.data.map((s) => s.id)).toEqual([ids[1], ids[2]])
    const before = await client.vectorStores.list({ limit: 1, order: 'asc', before: ids[2] })
    expect(before.data.map((s) => s.id)).toEqual([ids[1]])
    const modified = await client.vectorStores.update(ids[0], {
      name: 'renamed',
      metadata: { a: 'b' },
      expires_after: { anchor: 'last_active_at', days: 1 },
    })
    expect(modified).toMatchObject({ name: 'renamed', metadata: { a: 'b' } })
    expect(modified.expires_at).toBe(modified.last_active_at! + 86400)
    const cleared = await client.vectorStores.update(ids[0], { expires_after: null })
    expect(cleared.expires_at).toBeNull()
    expect(cleared.expires_after).toBeUndefined()
    expect(await client.vectorStores.delete(ids[0])).toEqual({ id: ids[0], object: 'vector_store.deleted', deleted: true })
    await expect(client.vectorStores.retrieve(ids[0])).rejects.toMatchObject({
      status: 404,
      error: { message: `No vector store found with id '${ids[0]}'.` },
    })
  })

  it('ingests every file type through files.createAndPoll and fileBatches.uploadAndPoll', async () => {
    const store = await client.vectorStores.create({ name: 'types' })
    const uploaded = await client.files.create({
      file: await toFile(Buffer.from('def add(a, b):\n    return a + b  # arithmetic helper\n'), 'math.py'),
      purpose: 'assistants',
    })
    const single = await client.files.waitForProcessing(uploaded.id)
    const attached = await client.vectorStores.files.createAndPoll(store.id, {
      file_id: single.id,
      attributes: { language: 'python', stars: 5, public: true },
    })
    expect(attached).toMatchObject({ status: 'completed', attributes: { language: 'python', stars: 5, public: true } })
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await toFile(Buffer.from('<html><body><h1>Volcanoes</h1><p>Mount Etna erupts often.</p></body></html>'), 'page.html'),
        await toFile(Buffer.from(JSON.stringify({ planet: 'Jupiter', moons: 95 })), 'data.json'),
        await toFile(Buffer.from('city,population\nLagos,15000000\n'), 'cities.csv'),
        await toFile(pdfDocument(['Photosynthesis converts light into chemical energy.']), 'biology.pdf'),
        await toFile(docxDocument(['The treaty of Westphalia was signed in 1648.']), 'history.docx'),
        await toFile(pptxDocument(['Quarterly revenue grew by twelve percent.']), 'deck.pptx'),
      ],
    })
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', status: 'completed', vector_store_id: store.id })
    expect(batch.file_counts).toEqual({ in_progress: 0, completed: 6, failed: 0, cancelled: 0, total: 6 })
    // a batch that ended cannot be cancelled: F8's form and status
    const late = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id }).catch((error) => error)
    expect(late).toMatchObject({ status: 409, error: { message: "Cannot cancel a file batch with status 'completed'.", type: 'invalid_request_error' } })
    expect(late.headers.get('x-should-retry')).toBe('false')
    const inBatch = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })
    expect(inBatch.data).toHaveLength(6)
    const texts = await Promise.all(
      inBatch.data.map(async (f) => (await client.vectorStores.files.content(f.id, { vector_store_id: store.id })).data[0].text),
    )
    expect(texts.sort()).toEqual(
      [
        'VOLCANOES\n\nMount Etna erupts often.',
        '{"planet":"Jupiter","moons":95}',
        'city,population\nLagos,15000000',
        'Photosynthesis converts light into chemical energy.',
        'The treaty of Westphalia was signed in 1648.',
        'Quarterly revenue grew by twelve percent.',
      ].sort(),
    )
    const completed = await client.vectorStores.files.list(store.id, { filter: 'completed', limit: 100 })
    expect(completed.data).toHaveLength(7)
    expect((await client.vectorStores.files.list(store.id, { filter: 'failed' })).data).toHaveLength(0)
  })

  it('searches: hybrid ranking, query arrays, filters inside the query, limits and rewrite', async () => {
    const store = await client.vectorStores.create({ name: 'search' })
    const docs = [
      ['penguins.txt', 'Emperor penguins breed during the Antarctic winter.', { animal: 'bird', legs: 2 }],
      ['spiders.txt', 'Spiders spin silk webs to catch insects.', { animal: 'arachnid', legs: 8 }],
      ['dogs.txt', 'Dogs were domesticated from wolves thousands of years ago.', { animal: 'mammal', legs: 4 }],
    ] as const
    for (const [name, text, attributes] of docs) {
      const f = await file(name, text)
      await client.vectorStores.files.createAndPoll(store.id, { file_id: f.id, attributes })
    }
    const found = await client.vectorStores.search(store.id, { query: 'Which animal spins silk webs?' })
    const results = found.data
    expect(results[0]).toMatchObject({
      filename: 'spiders.txt',
      attributes: { animal: 'arachnid', legs: 8 },
      content: [{ type: 'text', text: 'Spiders spin silk webs to catch insects.' }],
    })
    expect(results[0].score).toBeGreaterThan(results[1]?.score ?? 0)
    for (const r of results) expect(r.score).toBeLessThanOrEqual(1)

    const many = await client.vectorStores.search(store.id, { query: ['penguins winter', 'wolves domesticated'], max_num_results: 2 })
    expect(many.data.map((r) => r.filename).sort()).toEqual(['dogs.txt', 'penguins.txt'])

    const filtered = await client.vectorStores.search(store.id, {
      query: 'silk webs penguins wolves',
      filters: { type: 'and', filters: [{ type: 'gte', key: 'legs', value: 4 }, { type: 'ne', key: 'animal', value: 'arachnid' }] },
    })
    expect(filtered.data.map((r) => r.filename)).toEqual(['dogs.txt'])
    const eq = await client.vectorStores.search(store.id, { query: 'silk', filters: { type: 'eq', key: 'animal', value: 'bird' } })
    expect(eq.data.map((r) => r.filename)).toEqual(['penguins.txt'])
    const any = await client.vectorStores.search(store.id, {
      query: 'animals',
      filters: { type: 'or', filters: [{ type: 'eq', key: 'legs', value: 2 }, { type: 'eq', key: 'legs', value: 8 }] },
    })
    expect(any.data.map((r) => r.filename).sort()).toEqual(['penguins.txt', 'spiders.txt'])

    const strict = await client.vectorStores.search(store.id, { query: 'silk webs', ranking_options: { score_threshold: 0.99 } })
    expect(strict.data.every((r) => r.score >= 0.99)).toBe(true)

    const rewritten = await client.vectorStores.search(store.id, { query: 'What do the spiders spin?', rewrite_query: true })
    expect((rewritten as unknown as { body: { search_query: string[] } }).body.search_query).toEqual(['spiders spin'])
    expect(rewritten.data[0].filename).toBe('spiders.txt')

    // new attributes hold at once, for every chunk of the file
    const spiders = (await client.vectorStores.files.list(store.id)).data.find((f) => f.attributes?.animal === 'arachnid')!
    const updated = await client.vectorStores.files.update(spiders.id, { vector_store_id: store.id, attributes: { animal: 'bird' } })
    expect(updated.attributes).toEqual({ animal: 'bird' })
    const birds = await client.vectorStores.search(store.id, { query: 'silk webs', filters: { type: 'eq', key: 'animal', value: 'bird' } })
    expect(birds.data.map((r) => r.filename).sort()).toEqual(['penguins.txt', 'spiders.txt'])

    // a removed file is no longer found
    await client.vectorStores.files.delete(spiders.id, { vector_store_id: store.id })
    const after = await client.vectorStores.search(store.id, { query: 'silk webs spiders' })
    expect(after.data.map((r) => r.filename)).not.toContain('spiders.txt')
    const retrieved = await client.vectorStores.retrieve(store.id)
    expect(retrieved.file_counts.total).toBe(2)
  })

  it('cancels a file batch: files in progress end cancelled, and stay so once the jobs run', async () => {
    // an app whose job runner has not started: the files are still in progress when cancelled
    const idle = await createTestApp()
    try {
      const c = idle.client()
      const store = await c.vectorStores.create({ name: 'cancel' })
      const files = await Promise.all(
        [1, 2, 3].map(async (i) => c.files.create({ file: await toFile(Buffer.from(`cancel me ${i}`), `c${i}.txt`), purpose: 'assistants' })),
      )
      const batch = await c.vectorStores.fileBatches.create(store.id, { file_ids: files.map((f) => f.id) })
      expect(batch).toMatchObject({ status: 'in_progress', file_counts: { in_progress: 3, total: 3 } })
      const cancelled = await c.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id })
      expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 3, in_progress: 0, total: 3 } })
      idle.ctx.jobs.start()
      await new Promise((r) => setTimeout(r, 300))
      const again = await c.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })
      expect(again).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 3, total: 3 } })
      const listed = await c.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'cancelled' })
      expect(listed.data).toHaveLength(3)
      const results = await c.vectorStores.search(store.id, { query: 'cancel me' })
      expect(results.data).toEqual([])
      await expect(c.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id })).resolves.toMatchObject({ status: 'cancelled' })
    } finally {
      await idle.close()
    }
  })
})

describe('vector stores: bad input', () => {
  it('refuses what OpenAI refuses, with its 4xx', async () => {
    const store = await client.vectorStores.create({})
    const bad = (p: Promise<unknown>, status: number, message: RegExp | string, param?: string) =>
      expect(p).rejects.toMatchObject({ status, error: expect.objectContaining({ message: expect.stringMatching(message), ...(param ? { param } : {}) }) })
    await bad(client.vectorStores.create({ chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 0 } } }), 400, /below minimum value/, 'chunking_strategy.static.max_chunk_size_tokens')
    await bad(client.vectorStores.create({ chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 5000, chunk_overlap_tokens: 0 } } }), 400, /above maximum value/)
    await bad(client.vectorStores.create({ chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 201 } } }), 400, /half of max_chunk_size_tokens/, 'chunking_strategy.static.chunk_overlap_tokens')
    await bad(client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 0 } }), 400, /below minimum value/)
    await bad(client.vectorStores.create({ file_ids: ['file-nope'] }), 404, 'No such File object: file-nope')
    await bad(client.vectorStores.files.create(store.id, { file_id: 'file-nope' }), 404, 'No such File object: file-nope')
    await bad(client.vectorStores.files.retrieve('file-nope', { vector_store_id: store.id }), 404, /No file found with id 'file-nope'/)
    await bad(client.vectorStores.fileBatches.retrieve('vsfb_nope', { vector_store_id: store.id }), 404, /No file batch found/)
    await bad(client.vectorStores.search('vs_nope', { query: 'x' }), 404, "No vector store found with id 'vs_nope'.")
    await bad(client.vectorStores.search(store.id, { query: 'x', max_num_results: 51 }), 400, /above maximum value/, 'max_num_results')
    await bad(client.vectorStores.search(store.id, { query: 'x', filters: { type: 'like', key: 'a', value: 'b' } as any }), 400, /Invalid/)
    await bad(client.vectorStores.search(store.id, { query: 'x', filters: { type: 'in', key: 'a', value: 'b' } }), 400, /expected an array/)
    await bad(client.vectorStores.search(store.id, { query: 'x', filters: { type: 'gt', key: 'a', value: true } }), 400, /compares numbers or strings/)
    await bad(client.vectorStores.search(store.id, { query: 'x', filters: { type: 'and' } as any }), 400, /Invalid|Missing/)
    await bad(client.vectorStores.search(store.id, { query: '' }), 400, /Invalid/)
    await bad(client.vectorStores.fileBatches.create(store.id, { file_ids: [] }), 400, /empty array/)
    // a file of another project is not found in this one
    const other = await otherProjectClient(t)
    const theirs = await other.files.create({ file: await toFile(Buffer.from('secret'), 's.txt'), purpose: 'assistants' })
    await bad(client.vectorStores.files.create(store.id, { file_id: theirs.id }), 404, `No such File object: ${theirs.id}`)
    await bad(other.vectorStores.retrieve(store.id), 404, `No vector store found with id '${store.id}'.`)
  })

  it('ends unreadable files failed with OpenAI last_error codes, never completed', async () => {
    const store = await client.vectorStores.create({ name: 'failures' })
    const cases = [
      ['empty.txt', '', 'invalid_file', /empty/],
      ['binary.txt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff, 0xfe, 0x00]), 'invalid_file', /binary/],
      ['program.exe', 'MZ\u0000\u0001', 'unsupported_file', /not supported/],
      ['broken.pdf', '%PDF-1.4 this is not a pdf', 'invalid_file', /PDF/],
      ['broken.docx', 'not a zip', 'invalid_file', /Word/],
      ['large.txt', 'x '.repeat(150_000), 'invalid_file', /too large/],
    ] as const
    for (const [name, content, code, message] of cases) {
      const f = await file(name, content)
      const attached = await client.vectorStores.files.createAndPoll(store.id, { file_id: f.id })
      expect(attached.status, name).toBe('failed')
      expect(attached.last_error?.code, name).toBe(code)
      expect(attached.last_error?.message, name).toMatch(message)
      expect(attached.usage_bytes).toBe(0)
    }
    const final = await client.vectorStores.retrieve(store.id)
    expect(final.status).toBe('completed')
    expect(final.file_counts).toMatchObject({ failed: cases.length, completed: 0, total: cases.length })
    expect(final.usage_bytes).toBe(0)
  })

  it('fails a file deleted before its ingestion ran', async () => {
    const idle = await createTestApp()
    try {
      const c = idle.client()
      const store = await c.vectorStores.create({ name: 'deleted file' })
      const gone = await c.files.create({ file: await toFile(Buffer.from('soon deleted'), 'gone.txt'), purpose: 'assistants' })
      const pending = await c.vectorStores.files.create(store.id, { file_id: gone.id })
      expect(pending.status).toBe('in_progress')
      await c.files.delete(gone.id)
      idle.ctx.jobs.start()
      const failed = await c.vectorStores.files.poll(store.id, gone.id, { pollIntervalMs: 25 })
      expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file', message: `The file ${gone.id} no longer exists.` } })
    } finally {
      await idle.close()
    }
  })

  it('expires a store after its days of inactivity: reads say expired, use is refused', async () => {
    const store = await client.vectorStores.create({ name: 'old', expires_after: { anchor: 'last_active_at', days: 1 } })
    const past = nowSeconds() - 2 * 86400
    await createRepos(t.ctx.storage.db).vectorStores.update((await createRepos(t.ctx.storage.db).vectorStores.getAny(store.id))!.project_id, store.id, {
      last_active_at: past,
      expires_at: past + 86400,
    })
    expect((await client.vectorStores.retrieve(store.id)).status).toBe('expired')
    expect(await t.ctx.services.retrieval.maintenance.expire()).toBeGreaterThanOrEqual(1)
    await expect(client.vectorStores.search(store.id, { query: 'x' })).rejects.toMatchObject({
      status: 400,
      error: { code: 'vector_store_expired', param: 'vector_store_id', message: `Vector store '${store.id}' has expired. Create a new vector store to use its files.` },
    })
    const f = await file('late.txt', 'too late')
    await expect(client.vectorStores.files.create(store.id, { file_id: f.id })).rejects.toMatchObject({ status: 400 })
    expect((await client.vectorStores.delete(store.id)).deleted).toBe(true)
  })
})


describe('vector stores for assistants', () => {
  it('the vector_stores helper of an assistant makes a store of its files, in the same request', async () => {
    const f = await file('handbook.txt', 'Employees get twenty five days of paid leave each year.')
    const assistant = await client.beta.assistants.create({
      model: 'test-scripted',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_stores: [{ file_ids: [f.id], metadata: { from: 'helper' } }] } },
    })
    const [storeId] = assistant.tool_resources!.file_search!.vector_store_ids!
    expect(storeId).toMatch(/^vs_/)
    const store = await waitStore(storeId)
    expect(store).toMatchObject({ status: 'completed', metadata: { from: 'helper' }, file_counts: { completed: 1, total: 1 } })
    const found = await t.ctx.services.retrieval.retrieval.search(
      { ...(await projectPrincipalOf(t)) },
      [storeId],
      'how many days of paid leave',
      { maxNumResults: 3 },
    )
    expect(found.results[0]).toMatchObject({ fileId: f.id, filename: 'handbook.txt', storeId })
    expect(found.results[0].text).toContain('twenty five days')
  })
})

async function projectPrincipalOf(app: TestApp) {
  const principal = await app.ctx.services.keys.authenticate(PROJECT_KEY)
  return principal as Parameters<TestApp['ctx']['services']['retrieval']['retrieval']['search']>[0]
}

describe('vector store usage', () => {
  it('the day’s bytes appear in usage/vector_stores and costs, recorded once per change', async () => {
    const app = await createTestApp()
    try {
      app.ctx.jobs.start()
      const c = app.client()
      const admin = app.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization
      const f = await c.files.create({ file: await toFile(Buffer.from('bytes to bill'), 'bill.txt'), purpose: 'assistants' })
      const store = await c.vectorStores.create({ file_ids: [f.id] })
      let done = await c.vectorStores.retrieve(store.id)
      for (let i = 0; done.status === 'in_progress' && i < 200; i++) {
        await new Promise((r) => setTimeout(r, 25))
        done = await c.vectorStores.retrieve(store.id)
      }
      expect(done.usage_bytes).toBeGreaterThan(0)
      const maintenance = app.ctx.services.retrieval.maintenance
      expect(await maintenance.recordUsage()).toBe(1)
      expect(await maintenance.recordUsage()).toBe(0)
      const day = nowSeconds() - (nowSeconds() % 86400)
      const usage = async () =>
        (await admin.usage.vectorStores({ start_time: day, group_by: ['project_id'] })).data[0].results as unknown as Record<string, unknown>[]
      expect(await usage()).toEqual([
        { object: 'organization.usage.vector_stores.result', usage_bytes: done.usage_bytes, project_id: expect.any(String) },
      ])
      const costs = await admin.usage.costs({ start_time: day, group_by: ['line_item'] })
      expect(costs.data[0].results).toEqual([
        expect.objectContaining({ line_item: 'file search storage', amount: { value: expect.closeTo((done.usage_bytes / 1e9) * 0.1, 14), currency: 'usd' } }),
      ])
      // the store goes: the day's snapshot drops to what is left
      await c.vectorStores.delete(store.id)
      expect(await maintenance.recordUsage()).toBe(1)
      expect((await usage())[0]).toMatchObject({ usage_bytes: 0 })
    } finally {
      await app.close()
    }
  })
})
