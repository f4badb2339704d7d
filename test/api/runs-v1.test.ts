import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { v1Client } from '../helpers/assistants.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Runs under OpenAI-Beta: assistants=v1: v1 tools (retrieval) and file_ids on the run, checked
// against the 2024-04-15 spec by the validating fetch.

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

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

  it('a retrieval tool fails the run with its v1 name', async () => {
    const client = v1Client(t)
    const assistant = await client.beta.assistants.create({
      model: 'test-scripted',
      tools: [{ type: 'retrieval' } as never],
    })
    const thread = await client.beta.threads.create()
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 20 },
    )
    expect(run.status).toBe('failed')
    expect(run.tools).toEqual([{ type: 'retrieval' }])
    expect(run.last_error!.code).toBe('invalid_prompt')
  })
})
