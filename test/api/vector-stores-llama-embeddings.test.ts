import { sql } from 'kysely'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelsDir } from '../helpers/llama.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// Vector stores embedded by a real llama.cpp model: stories260K.gguf is the configured
// `vectorStores.embeddingModel`, so ingestion and every search's query go through llama.cpp's
// embeddings. Through the SDK (responses checked against the spec): upload and poll, search,
// and a file_search run on test-scripted that cites the passage found.

const MODEL = 'stories260K'
const poll = { pollIntervalMs: 20 }

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

/** The embedding tokens the usage API shows for the GGUF. */
async function embeddingTokens(): Promise<number> {
  await t.ctx.services.usage.settled()
  const admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization
  const usage = await admin.usage.embeddings({ start_time: Math.floor(Date.now() / 1000) - 3600, group_by: ['model'], bucket_width: '1d' })
  const byModel = usage.data.flatMap((b) => b.results as unknown as { model: string; input_tokens: number }[])
  return byModel.filter((r) => r.model === MODEL).reduce((sum, r) => sum + r.input_tokens, 0)
}

describe('vector stores embedded by stories260K (llama.cpp)', () => {
  beforeAll(async () => {
    dir = modelsDir([`${MODEL}.gguf`])
    t = await createTestApp({
      llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 2048, sequences: 1 } },
      vectorStores: { embeddingModel: MODEL },
    })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    dir?.remove()
  })

  it('ingests with the GGUF, searches, bills the query embedding to it, and serves a cited file_search run', async () => {
    const store = await client.vectorStores.create({ name: 'stories' })
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await toFile(Buffer.from('Lily had a big red ball. She played with it in the park every day.'), 'lily.txt'),
        await toFile(Buffer.from('Tom saw a little dog near the river. The dog was wet and happy.'), 'tom.txt'),
        await toFile(Buffer.from('# The cake\nMom baked a sweet cake for the birthday party.'), 'cake.md'),
      ],
    }, poll)
    expect(batch).toMatchObject({ status: 'completed', file_counts: { completed: 3, failed: 0, total: 3 } })
    const files = await client.vectorStores.files.list(store.id)
    expect(files.data.every((f) => f.status === 'completed' && f.usage_bytes > 0)).toBe(true)
    // the chunks carry the GGUF's vectors: its embedding width, not test-embed's 1536
    const width = (await client.embeddings.create({ model: MODEL, input: 'x' })).data[0].embedding.length
    const { rows } = await sql<{ dims: number }>`select distinct dims from vector_store_chunks where vector_store_id = ${store.id}`.execute(t.ctx.storage.db)
    expect(rows.map((r) => Number(r.dims))).toEqual([width])
    expect(width).not.toBe(1536)
    const retrieved = await client.vectorStores.retrieve(store.id)
    expect(retrieved.usage_bytes).toBe(files.data.reduce((sum, f) => sum + f.usage_bytes, 0))

    const before = await embeddingTokens()
    const found = await client.vectorStores.search(store.id, { query: 'the little dog by the river', max_num_results: 3 })
    expect(found.data.length).toBeGreaterThan(0)
    expect(found.data[0]).toMatchObject({ filename: 'tom.txt', content: [{ type: 'text', text: expect.stringContaining('little dog') }] })
    for (const r of found.data) expect(r.score).toBeGreaterThan(0)

    // the query's embedding is billed to the store's model
    expect(await embeddingTokens()).toBeGreaterThan(before)

    const assistant = await client.beta.assistants.create({
      model: 'test-scripted',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: [store.id] } },
    })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'What did Mom bake for the party?' }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
    expect(call.file_search.results![0].file_name).toBe('cake.md')
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    const text = (message.content[0] as OpenAI.Beta.Threads.TextContentBlock).text
    expect(text.value).toContain('Mom baked a sweet cake')
    const cake = files.data.find((f) => f.id === call.file_search.results![0].file_id)!
    expect(text.annotations[0]).toMatchObject({ type: 'file_citation', file_citation: { file_id: cake.id } })
  })
})
