import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { REWRITE_PROMPT } from '../../src/domain/retrieval/query-rewriter.js'
import { countTokens } from '../../src/providers/tokenizer.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// What a search costs, in the usage API: the query's embedding (the endpoint and the file_search
// tool), and the rewrite model's completion for rewrite_query. And rewrite_query itself: by a
// configured chat model (an upstream's here, whose prompt and answer the test sees), or, without
// one, the documented normalisation.

const poll = { pollIntervalMs: 20 }

type UsageResult = { model: string | null; input_tokens: number; output_tokens?: number; num_model_requests: number }

async function usageOf(t: TestApp, kind: 'embeddings' | 'completions', model: string): Promise<UsageResult | undefined> {
  await t.ctx.services.usage.settled()
  const admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization
  const start = Math.floor(Date.now() / 1000) - 3600
  const page = await admin.usage[kind]({ start_time: start, group_by: ['model'], bucket_width: '1d' })
  const results = page.data.flatMap((bucket) => bucket.results as unknown as UsageResult[])
  const mine = results.filter((r) => r.model === model)
  if (!mine.length) return undefined
  return mine.reduce((sum, r) => ({
    model,
    input_tokens: sum.input_tokens + r.input_tokens,
    output_tokens: (sum.output_tokens ?? 0) + (r.output_tokens ?? 0),
    num_model_requests: sum.num_model_requests + r.num_model_requests,
  }))
}

/** The page's search_query (the SDK's Page keeps only data and object on itself). */
const searchQuery = (page: unknown) => (page as { body: { search_query: string[] } }).body.search_query

async function storeOf(client: OpenAI, files: Record<string, string>) {
  const store = await client.vectorStores.create({ name: 'usage' })
  const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
    files: await Promise.all(Object.entries(files).map(([name, text]) => toFile(Buffer.from(text), name))),
  }, poll)
  expect(batch.file_counts.completed).toBe(Object.keys(files).length)
  return store
}

describe('search usage and rewrite_query without a rewrite model', () => {
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    t = await createTestApp()
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => t?.close())

  it("bills each search's query embedding as embeddings of the store's model; ingestion is not billed as embeddings", async () => {
    const store = await storeOf(client, { 'rivers.txt': 'The Danube flows through ten countries before the Black Sea.' })
    expect(await usageOf(t, 'embeddings', 'test-embed')).toBeUndefined()

    const query = 'Which river flows through ten countries?'
    const found = await client.vectorStores.search(store.id, { query })
    expect(searchQuery(found)).toEqual([query])
    expect(found.data[0].filename).toBe('rivers.txt')
    expect(await usageOf(t, 'embeddings', 'test-embed')).toMatchObject({ input_tokens: countTokens(query), num_model_requests: 1 })

    // a query array is embedded in one call: its tokens, one request
    const queries = ['Danube countries', 'Black Sea']
    await client.vectorStores.search(store.id, { query: queries })
    expect(await usageOf(t, 'embeddings', 'test-embed')).toMatchObject({
      input_tokens: countTokens(query) + countTokens(queries[0]) + countTokens(queries[1]),
      num_model_requests: 2,
    })
  })

  it('a file_search call in a run bills its query embedding with the turn', async () => {
    const store = await storeOf(client, { 'oceans.txt': 'The Pacific is the largest and deepest ocean on Earth.' })
    const before = (await usageOf(t, 'embeddings', 'test-embed'))?.input_tokens ?? 0
    const assistant = await client.beta.assistants.create({
      model: 'test-scripted',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: [store.id] } },
    })
    // test-scripted searches for the last user message
    const question = 'What is the largest ocean?'
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: question }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')
    const after = await usageOf(t, 'embeddings', 'test-embed')
    expect(after!.input_tokens - before).toBe(countTokens(question))
  })

  it('rewrite_query normalises each query: lower case, its words without stopwords and repeats', async () => {
    const store = await storeOf(client, { 'spiders.txt': 'Orb weaver spiders spin round webs of silk.' })
    const completionsBefore = await usageOf(t, 'completions', 'test-scripted')
    const found = await client.vectorStores.search(store.id, {
      query: ['What do the Spiders spin, and what do spiders EAT?', 'the of'],
      rewrite_query: true,
    })
    // a query of stopwords only is kept as it was
    expect(searchQuery(found)).toEqual(['spiders spin eat', 'the of'])
    expect(found.data[0].filename).toBe('spiders.txt')
    // no model rewrote: no completion is billed
    expect(await usageOf(t, 'completions', 'test-scripted')).toEqual(completionsBefore)
  })
})

describe('rewrite_query with a rewrite model', () => {
  let fake: FakeUpstream
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await createTestApp({
      upstreams: [{ id: 'fake', baseURL: fake.baseURL }],
      models: [{ id: 'gpt-rewriter', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'fake-model' }],
      vectorStores: { rewriteModel: 'gpt-rewriter' },
    })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })
  beforeEach(() => fake.reset())

  it("sends each query with the fixed prompt, searches the model's answer, and bills the rewrite", async () => {
    const store = await storeOf(client, {
      'rivers.txt': 'The Danube flows through ten countries before the Black Sea.',
      'oceans.txt': 'The Pacific is the largest and deepest ocean on Earth.',
    })
    fake.once({ text: '"Danube countries"\n(the rest is ignored)', usage: { prompt_tokens: 40, completion_tokens: 3 } })
    const question = 'Hi! Could you please tell me through how many countries that long European river runs?'
    const found = await client.vectorStores.search(store.id, { query: question, rewrite_query: true })
    expect(searchQuery(found)).toEqual(['Danube countries'])
    expect(found.data[0].filename).toBe('rivers.txt')

    const sent = fake.requests.filter((r) => r.path.endsWith('/chat/completions'))
    expect(sent).toHaveLength(1)
    expect(sent[0].body).toMatchObject({
      model: 'fake-model',
      messages: [
        { role: 'system', content: REWRITE_PROMPT },
        { role: 'user', content: question },
      ],
      temperature: 0,
      max_completion_tokens: 64,
    })
    expect(await usageOf(t, 'completions', 'gpt-rewriter')).toMatchObject({ input_tokens: 40, output_tokens: 3, num_model_requests: 1 })
    // the rewritten query is what was embedded
    expect(await usageOf(t, 'embeddings', 'test-embed')).toMatchObject({ input_tokens: countTokens('Danube countries') })

    // without rewrite_query the model is not asked
    const plain = await client.vectorStores.search(store.id, { query: 'largest ocean' })
    expect(searchQuery(plain)).toEqual(['largest ocean'])
    expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1)
  })

  it('a failing or empty rewrite falls back to the normalisation; the search answers', async () => {
    const store = await storeOf(client, { 'oceans.txt': 'The Pacific is the largest and deepest ocean on Earth.' })
    fake.once({ error: { status: 500, body: { error: { message: 'down', type: 'server_error', param: null, code: null } } } })
    fake.set({ error: { status: 500, body: { error: { message: 'down', type: 'server_error', param: null, code: null } } } })
    const failed = await client.vectorStores.search(store.id, { query: 'What is the LARGEST ocean?', rewrite_query: true })
    expect(searchQuery(failed)).toEqual(['largest ocean'])
    expect(failed.data[0].filename).toBe('oceans.txt')
    fake.reset()
    fake.once({ text: '   ' })
    const empty = await client.vectorStores.search(store.id, { query: 'The deepest ocean', rewrite_query: true })
    expect(searchQuery(empty)).toEqual(['deepest ocean'])
  })
})

describe('rewrite_query with test-echo as the rewrite model', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({ vectorStores: { rewriteModel: 'test-echo' } })
    t.ctx.jobs.start()
  })
  afterAll(async () => t?.close())

  it('echoes the query (the user message holds it alone), and the rewrite is billed to test-echo', async () => {
    const client = t.client()
    const store = await storeOf(client, { 'oceans.txt': 'The Pacific is the largest and deepest ocean on Earth.' })
    const query = 'Which ocean is the LARGEST?'
    const found = await client.vectorStores.search(store.id, { query, rewrite_query: true })
    expect(searchQuery(found)).toEqual([query])
    expect(found.data[0].filename).toBe('oceans.txt')
    expect(await usageOf(t, 'completions', 'test-echo')).toMatchObject({ num_model_requests: 1, output_tokens: countTokens(query) })
  })
})
