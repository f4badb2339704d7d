import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// file_search in runs (docs/assistants.md, "File search"), through the SDK on test-scripted: it
// searches for the last user message and quotes the best source with its 【n:m†file】 marker.
// Every response (steps with and without include[], annotated messages) is checked against the
// spec by the validating fetch. On SQLite, and on PostgreSQL (pgvector) when TEST_PG_URL is set.

let t: TestApp
let client: OpenAI
const poll = { pollIntervalMs: 20 }
const INCLUDE = 'step_details.tool_calls[*].file_search.results[*].content' as const

describe.each(storageCases())('file_search runs on $name', ({ create }) => {
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('file_search_runs')
    cleanup = storage.cleanup
    t = await createTestApp({}, { storage: storage.config })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  const upload = async (name: string, text: string) => toFile(Buffer.from(text), name)

  const textOf = (message: OpenAI.Beta.Threads.Message) =>
    message.content.flatMap((c) => (c.type === 'text' ? [c.text] : []))[0]!

  async function storeOfFacts() {
    const store = await client.vectorStores.create({ name: 'facts' })
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await upload('volcanoes.txt', 'Mount Etna in Sicily is the most active volcano in Europe.\nIt erupts often.'),
        await upload('rivers.md', '# Rivers\nThe Danube flows through ten countries before the Black Sea.'),
      ],
    }, poll)
    expect(batch.file_counts).toMatchObject({ completed: 2, failed: 0 })
    const third = await client.files.create({
      file: await upload('oceans.txt', 'The Pacific is the largest and deepest ocean on Earth.'),
      purpose: 'assistants',
    })
    await client.vectorStores.files.createAndPoll(store.id, { file_id: third.id }, poll)
    const files = await client.vectorStores.files.list(store.id)
    const ids = Object.fromEntries(
      await Promise.all(files.data.map(async (f) => [(await client.files.retrieve(f.id)).filename, f.id] as const)),
    )
    return { store, ids }
  }

  describe('file_search in runs', () => {
    it("finds the passage in the assistant's store, shows the results, and cites it", async () => {
      const { store, ids } = await storeOfFacts()
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search', file_search: { max_num_results: 2, ranking_options: { ranker: 'auto', score_threshold: 0 } } }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'Which volcano is the most active in Europe?' }],
      })
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(run.status).toBe('completed')

      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
      expect(steps.data.map((s) => [s.type, s.status])).toEqual([
        ['tool_calls', 'completed'],
        ['message_creation', 'completed'],
      ])
      const details = steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails
      const call = details.tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(call.type).toBe('file_search')
      expect(call.file_search.ranking_options).toEqual({ ranker: 'auto', score_threshold: 0 })
      const results = call.file_search.results!
      // max_num_results holds; the best result is the volcano file; no content without include[]
      expect(results.length).toBeLessThanOrEqual(2)
      expect(results[0]).toMatchObject({ file_id: ids['volcanoes.txt'], file_name: 'volcanoes.txt' })
      expect(results[0].score).toBeGreaterThan(0)
      expect(results[0].score).toBeLessThanOrEqual(1)
      for (const r of results) expect(r).not.toHaveProperty('content')

      // include[] shows each result's text, on list and retrieve
      const withContent = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc', include: [INCLUDE] })
      const listed = (withContent.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(listed.file_search.results![0].content).toEqual([{ type: 'text', text: expect.stringContaining('Mount Etna') }])
      const one = await client.beta.threads.runs.steps.retrieve(steps.data[0].id, { thread_id: thread.id, run_id: run.id, include: [INCLUDE] })
      const retrieved = (one.step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(retrieved.file_search.results![0].content![0].text).toContain('Mount Etna')

      // the answer quotes the passage and cites it: a file_citation on the marker
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      const text = textOf(messages.data[0])
      expect(text.value).toContain('Mount Etna in Sicily is the most active volcano in Europe.')
      expect(text.annotations).toHaveLength(1)
      const annotation = text.annotations[0] as OpenAI.Beta.Threads.FileCitationAnnotation
      expect(annotation.type).toBe('file_citation')
      expect(annotation.file_citation.file_id).toBe(ids['volcanoes.txt'])
      expect(annotation.text).toMatch(/^【\d+:0†volcanoes\.txt】$/)
      expect([...text.value].slice(annotation.start_index, annotation.end_index).join('')).toBe(annotation.text)
    })

    it("searches the thread's store too, and the score threshold leaves out what scores below it", async () => {
      const { store, ids } = await storeOfFacts()
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search', file_search: { ranking_options: { score_threshold: 1 } } }],
      })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'How many countries does the Danube flow through?' }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      })
      const strict = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(strict.status).toBe('completed')
      const strictSteps = await client.beta.threads.runs.steps.list(strict.id, { thread_id: thread.id, order: 'asc' })
      const strictCall = (strictSteps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(strictCall.file_search.ranking_options).toEqual({ ranker: 'auto', score_threshold: 1 })
      for (const r of strictCall.file_search.results!) expect(r.score).toBe(1)

      // the run's tools override the assistant's: no threshold, the Danube passage is found
      await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'How many countries does the Danube flow through?' })
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, tools: [{ type: 'file_search' }] }, poll)
      expect(run.status).toBe('completed')
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
      const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(call.file_search.results![0].file_id).toBe(ids['rivers.md'])
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      const text = textOf(messages.data[0])
      expect(text.value).toContain('Danube flows through ten countries')
      expect((text.annotations[0] as OpenAI.Beta.Threads.FileCitationAnnotation).file_citation.file_id).toBe(ids['rivers.md'])
    })

    it('streams the file_search step and the annotated answer', async () => {
      const { store } = await storeOfFacts()
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search' }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      })
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'What is the largest ocean?' }] })
      const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id })
      const events: string[] = []
      let completed: OpenAI.Beta.Threads.Message | undefined
      const streamedResults: unknown[] = []
      for await (const event of stream) {
        events.push(event.event)
        if (event.event === 'thread.message.completed') completed = event.data
        if (event.event === 'thread.run.step.completed' && event.data.type === 'tool_calls') {
          streamedResults.push(...((event.data.step_details as any).tool_calls[0].file_search.results ?? []))
        }
        if (event.event === 'thread.run.step.delta') {
          for (const c of (event.data.delta.step_details as any)?.tool_calls ?? []) streamedResults.push(...(c.file_search?.results ?? []))
        }
      }
      // without include[], no result carries its content
      expect(streamedResults.length).toBeGreaterThan(0)
      for (const r of streamedResults) expect(r).not.toHaveProperty('content')
      expect(events).toContain('thread.run.step.delta')
      expect(events.at(-1)).toBe('thread.run.completed')
      const text = textOf(completed!)
      expect(text.value).toContain('Pacific')
      expect(text.annotations[0]).toMatchObject({ type: 'file_citation' })
      // the citation is streamed too: the SDK's snapshot, built from the deltas, has it
      const streamed = textOf((await stream.finalMessages()).at(-1)!)
      expect(streamed.value).toBe(text.value)
      expect(streamed.annotations).toEqual([{ index: 0, ...text.annotations[0], file_citation: expect.objectContaining(text.annotations[0].type === 'file_citation' ? text.annotations[0].file_citation : {}) }])
    })

    it("a store deleted since the assistant named it is passed over; the thread's is still searched", async () => {
      const gone = await client.vectorStores.create({ name: 'gone' })
      const { store, ids } = await storeOfFacts()
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search' }],
        tool_resources: { file_search: { vector_store_ids: [gone.id] } },
      })
      await client.vectorStores.delete(gone.id)
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'What is the largest ocean?' }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      })
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(run.status).toBe('completed')
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      const text = textOf(messages.data[0])
      expect(text.value).toContain('The Pacific is the largest')
      expect((text.annotations[0] as OpenAI.Beta.Threads.FileCitationAnnotation).file_citation.file_id).toBe(ids['oceans.txt'])
    })

    it('a streamed run created with include[] shows the results with their content', async () => {
      const { store } = await storeOfFacts()
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search' }],
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      })
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'What is the largest ocean?' }] })
      const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id, include: [INCLUDE] })
      let results: any[] = []
      for await (const event of stream) {
        if (event.event === 'thread.run.step.completed' && event.data.type === 'tool_calls') {
          results = (event.data.step_details as any).tool_calls[0].file_search.results
        }
      }
      expect(results[0].content).toEqual([{ type: 'text', text: expect.stringContaining('Pacific') }])
    })

    it('a run whose assistant has no store says so to the model, and completes', async () => {
      const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'file_search' }] })
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Anything?' }] })
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(run.status).toBe('completed')
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
      const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(call.file_search.results).toEqual([])
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      expect(textOf(messages.data[0]).value).toContain('No files are attached')
      expect(textOf(messages.data[0]).annotations).toEqual([])
    })

    it("create-and-run's tool_resources take the place of the assistant's for that run only", async () => {
      const { store, ids } = await storeOfFacts()
      const other = await client.vectorStores.create({ name: 'empty' })
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'file_search' }],
        tool_resources: { file_search: { vector_store_ids: [other.id] } },
      })
      const run = await client.beta.threads.createAndRunPoll({
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'Which ocean is the deepest?' }] },
        tool_resources: { file_search: { vector_store_ids: [store.id] } },
      }, poll)
      expect(run.status).toBe('completed')
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: run.thread_id, order: 'asc' })
      const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
      expect(call.file_search.results![0]).toMatchObject({ file_id: ids['oceans.txt'] })
      // neither the assistant nor the new thread took them
      expect((await client.beta.assistants.retrieve(assistant.id)).tool_resources).toEqual({ file_search: { vector_store_ids: [other.id] } })
      expect((await client.beta.threads.retrieve(run.thread_id)).tool_resources).toEqual({})
      // what they name must exist (H3, F1), and the vector_stores helper is the thread's only
      const create = (tool_resources: unknown) =>
        client.beta.threads.createAndRun({ assistant_id: assistant.id, tool_resources: tool_resources as never })
      await expect(create({ file_search: { vector_store_ids: ['vs_missing'] } })).rejects.toMatchObject({
        status: 404,
        error: { message: "No vector store found with id 'vs_missing'." },
      })
      await expect(create({ code_interpreter: { file_ids: ['file-missing'] } })).rejects.toMatchObject({
        status: 404,
        error: { message: 'No such File object: file-missing' },
      })
      await expect(create({ file_search: { vector_stores: [{ file_ids: [ids['oceans.txt']] }] } })).rejects.toMatchObject({
        status: 400,
        error: { message: "Unknown parameter: 'tool_resources.file_search.vector_stores'." },
      })
    })
  })

  describe('file_search attachments', () => {
    it("a message's file_search attachment goes into a new thread store, which the run waits for and searches", async () => {
      const file = await client.files.create({
        file: await upload('glaciers.txt', 'The Aletsch Glacier is the largest glacier in the Alps.'),
        purpose: 'assistants',
      })
      const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'file_search' }] })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'Which glacier is the largest in the Alps?', attachments: [{ file_id: file.id, tools: [{ type: 'file_search' }] }] }],
      })
      const storeIds = thread.tool_resources!.file_search!.vector_store_ids!
      expect(storeIds).toHaveLength(1)
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(run.status).toBe('completed')
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      const text = textOf(messages.data[0])
      expect(text.value).toContain('Aletsch Glacier')
      expect((text.annotations[0] as OpenAI.Beta.Threads.FileCitationAnnotation).file_citation.file_id).toBe(file.id)

      // a later message's attachment joins the same store
      const second = await client.files.create({ file: await upload('lakes.txt', 'Lake Geneva is shared by France and Switzerland.'), purpose: 'assistants' })
      await client.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: 'Which countries share Lake Geneva?',
        attachments: [{ file_id: second.id, tools: [{ type: 'file_search' }] }],
      })
      const after = await client.beta.threads.retrieve(thread.id)
      expect(after.tool_resources!.file_search!.vector_store_ids).toEqual(storeIds)
      const files = await client.vectorStores.files.list(storeIds[0])
      expect(files.data.map((f) => f.id).sort()).toEqual([file.id, second.id].sort())
      const next = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      const answer = textOf((await client.beta.threads.messages.list(thread.id, { run_id: next.id })).data[0])
      expect(answer.value).toContain('Lake Geneva is shared by France and Switzerland.')
    })

    it('a code_interpreter-only attachment makes no store', async () => {
      const file = await client.files.create({ file: await upload('data.csv', 'a,b\n1,2\n'), purpose: 'assistants' })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'hi', attachments: [{ file_id: file.id, tools: [{ type: 'code_interpreter' }] }] }],
      })
      expect(thread.tool_resources).toEqual({})
    })
  })
})
skippedPgCase('file_search runs on postgres')
