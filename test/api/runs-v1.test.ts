import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { v1Client } from '../helpers/assistants.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Runs under OpenAI-Beta: assistants=v1: v1 tools (retrieval) and file_ids on the run, checked
// against the 2024-04-15 spec by the validating fetch. On SQLite, and on PostgreSQL (pgvector)
// when TEST_PG_URL is set.

let t: TestApp
describe.each(storageCases())('v1 runs on $name', ({ create }) => {
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('runs_v1')
    cleanup = storage.cleanup
    t = await createTestApp({}, { storage: storage.config })
    t.ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  describe('runs (v1)', () => {
    it('runs to completed and shows the v1 run and steps', async () => {
      const client = v1Client(t)
      const assistant = await client.beta.assistants.create({ model: 'test-scripted' })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'hello' }],
      })
      const run = await client.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 20 },
      )
      expect(run.status).toBe('completed')
      expect(run).toHaveProperty('file_ids', [])
      expect(run).not.toHaveProperty('parallel_tool_calls')
      expect(run).not.toHaveProperty('top_p')
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })
      expect(steps.data[0].type).toBe('message_creation')
    })

    it("a retrieval run searches the message's file_ids: a v1 retrieval step and a cited answer", async () => {
      const client = v1Client(t)
      const file = await client.files.create({
        file: await toFile(Buffer.from('Saturn has the most prominent ring system of any planet.'), 'saturn.txt'),
        purpose: 'assistants',
      })
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'retrieval' } as never],
      })
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'Which planet has the most prominent rings?', file_ids: [file.id] } as never],
      })
      const run = await client.beta.threads.runs.createAndPoll(
        thread.id,
        { assistant_id: assistant.id },
        { pollIntervalMs: 20 },
      )
      expect(run.status).toBe('completed')
      expect(run.tools).toEqual([{ type: 'retrieval' }])
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
      expect(steps.data[0].type).toBe('tool_calls')
      expect(steps.data[0].step_details).toEqual({
        type: 'tool_calls',
        tool_calls: [{ id: expect.any(String), type: 'retrieval', retrieval: {} }],
      })
      const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
      const text = (message.content[0] as { text: { value: string; annotations: any[] } }).text
      expect(text.value).toContain('Saturn has the most prominent ring system')
      expect(text.annotations).toEqual([
        {
          type: 'file_citation',
          text: expect.stringMatching(/^【\d+:0†saturn\.txt】$/),
          start_index: expect.any(Number),
          end_index: expect.any(Number),
          file_citation: { file_id: file.id, quote: 'Saturn has the most prominent ring system of any planet.' },
        },
      ])
    })

    it("a retrieval run searches the assistant's file_ids", async () => {
      const client = v1Client(t)
      const file = await client.files.create({
        file: await toFile(Buffer.from('The okapi is a relative of the giraffe that lives in Congo.'), 'okapi.txt'),
        purpose: 'assistants',
      })
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [{ type: 'retrieval' } as never],
        file_ids: [file.id],
      } as never)
      const run = await client.beta.threads.createAndRunPoll(
        { assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'What is the okapi related to?' }] } },
        { pollIntervalMs: 20 },
      )
      expect(run.status).toBe('completed')
      expect(run).toHaveProperty('file_ids', [file.id])
      const [message] = (await client.beta.threads.messages.list(run.thread_id, { run_id: run.id })).data
      const text = (message.content[0] as { text: { value: string; annotations: any[] } }).text
      expect(text.value).toContain('relative of the giraffe')
      expect(text.annotations[0].file_citation.file_id).toBe(file.id)
    })
  })
})
skippedPgCase('v1 runs on postgres')
