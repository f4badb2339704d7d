import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { v1Client } from '../helpers/assistants.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// file_search (v2) and retrieval (v1) driven by an upstream chat model: a fake OpenAI-compatible
// server sees the tool as the function file_search(query) and calls it; Plinth runs the search,
// the results go back as the tool message (each source headed by its 【turn:n†file】 marker), and
// the markers of the final answer become file_citation annotations.

const poll = { pollIntervalMs: 20 }
const INCLUDE = 'step_details.tool_calls[*].file_search.results[*].content' as const
const search = (id: string, query: string) => ({ id, name: 'file_search', arguments: JSON.stringify({ query }) })

describe('file_search on an upstream model', () => {
  let fake: FakeUpstream
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await createTestApp({
      upstreams: [{ id: 'fake', baseURL: fake.baseURL }],
      models: [{ id: 'gpt-fake', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'fake-model' }],
    })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })
  beforeEach(() => fake.reset())

  async function storeOfFacts() {
    const store = await client.vectorStores.create({ name: 'facts' })
    await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await toFile(Buffer.from('The Pacific is the largest and deepest ocean on Earth.'), 'oceans.txt'),
        await toFile(Buffer.from('The Danube flows through ten countries before the Black Sea.'), 'rivers.txt'),
      ],
    }, poll)
    const files = await client.vectorStores.files.list(store.id)
    const ids = Object.fromEntries(
      await Promise.all(files.data.map(async (f) => [(await client.files.retrieve(f.id)).filename, f.id] as const)),
    )
    return { store, ids }
  }

  it('the upstream calls file_search, reads the results as a tool message, and its citation is annotated', async () => {
    const { store, ids } = await storeOfFacts()
    fake.once({ toolCalls: [search('call_fs', 'largest ocean')] })
    const answer = 'The Pacific is the largest ocean【0:0†oceans.txt】.'
    fake.once({ text: answer })
    const assistant = await client.beta.assistants.create({
      model: 'gpt-fake',
      tools: [{ type: 'file_search', file_search: { max_num_results: 1 } }],
      tool_resources: { file_search: { vector_store_ids: [store.id] } },
    })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Which ocean is the largest?' }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')

    const [first, second] = fake.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body)
    const offered = first.tools.find((tool: any) => tool.function.name === 'file_search')
    expect(offered.function.parameters).toMatchObject({ required: ['query'], properties: { query: { type: 'string' } } })
    expect(offered.function.description).toContain('【0:1†name.txt】')
    expect(second.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_fs', type: 'function', function: { name: 'file_search', arguments: search('', 'largest ocean').arguments } }],
      },
      { role: 'tool', tool_call_id: 'call_fs', content: '【0:0†oceans.txt】\nThe Pacific is the largest and deepest ocean on Earth.' },
    ])

    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc', include: [INCLUDE] })
    expect(steps.data.map((s) => s.type)).toEqual(['tool_calls', 'message_creation'])
    const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
    expect(call).toMatchObject({ id: 'call_fs', type: 'file_search', file_search: { ranking_options: { ranker: 'auto', score_threshold: 0 } } })
    expect(call.file_search.results).toEqual([
      {
        file_id: ids['oceans.txt'],
        file_name: 'oceans.txt',
        score: expect.any(Number),
        content: [{ type: 'text', text: 'The Pacific is the largest and deepest ocean on Earth.' }],
      },
    ])

    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    const text = (message.content[0] as OpenAI.Beta.Threads.TextContentBlock).text
    expect(text.value).toBe(answer)
    expect(text.annotations).toEqual([
      {
        type: 'file_citation',
        text: '【0:0†oceans.txt】',
        start_index: answer.indexOf('【'),
        end_index: answer.indexOf('】') + 1,
        file_citation: { file_id: ids['oceans.txt'] },
      },
    ])
  })

  it('tool_choice file_search forces the function until the run called it', async () => {
    const { store } = await storeOfFacts()
    fake.once({ toolCalls: [search('call_forced', 'Danube')] })
    fake.once({ text: 'Ten countries.' })
    const assistant = await client.beta.assistants.create({
      model: 'gpt-fake',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: [store.id] } },
    })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, tool_choice: { type: 'file_search' } }, poll)
    expect(run).toMatchObject({ status: 'completed', tool_choice: { type: 'file_search' } })
    const bodies = fake.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body)
    expect(bodies.map((b) => b.tool_choice)).toEqual([{ type: 'function', function: { name: 'file_search' } }, 'auto'])
    // an answer without markers has no annotations
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(message.content).toEqual([{ type: 'text', text: { value: 'Ten countries.', annotations: [] } }])
    expect(bodies[1].messages.at(-1).content).toContain('Danube flows through ten countries')
  })

  it('v1 retrieval: the same function searches the message files, and the citation carries its quote', async () => {
    const v1 = v1Client(t)
    const file = await v1.files.create({
      file: await toFile(Buffer.from('Saturn has the most prominent ring system of any planet.'), 'saturn.txt'),
      purpose: 'assistants',
    })
    fake.once({ toolCalls: [search('call_v1', 'planet rings')] })
    const answer = 'Saturn【0:0†saturn.txt】.'
    fake.once({ text: answer })
    const assistant = await v1.beta.assistants.create({ model: 'gpt-fake', tools: [{ type: 'retrieval' } as never] })
    const thread = await v1.beta.threads.create({
      messages: [{ role: 'user', content: 'Which planet has rings?', file_ids: [file.id] } as never],
    })
    const run = await v1.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')
    const steps = await v1.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    expect(steps.data[0].step_details).toEqual({ type: 'tool_calls', tool_calls: [{ id: 'call_v1', type: 'retrieval', retrieval: {} }] })
    const last = fake.last().body.messages.at(-1)
    expect(last).toEqual({ role: 'tool', tool_call_id: 'call_v1', content: '【0:0†saturn.txt】\nSaturn has the most prominent ring system of any planet.' })
    const [message] = (await v1.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    const text = (message.content[0] as { text: { value: string; annotations: any[] } }).text
    expect(text.annotations).toEqual([
      {
        type: 'file_citation',
        text: '【0:0†saturn.txt】',
        start_index: answer.indexOf('【'),
        end_index: answer.indexOf('】') + 1,
        file_citation: { file_id: file.id, quote: 'Saturn has the most prominent ring system of any planet.' },
      },
    ])
  })
})
