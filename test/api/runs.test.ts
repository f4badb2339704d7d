import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawJson } from '../helpers/assistants.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Runs through the SDK on test-scripted, executed by the job runner (docs/assistants.md, Runs).

let t: TestApp
let client: OpenAI
const poll = { pollIntervalMs: 20 }
beforeAll(async () => {
  t = await createTestApp()
  t.ctx.jobs.start()
  client = t.client()
})
afterAll(async () => t.close())

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
}

async function setup(tools: OpenAI.Beta.AssistantTool[] = [], text = 'hello there') {
  const assistant = await client.beta.assistants.create({
    model: 'test-scripted',
    instructions: 'Be brief.',
    tools,
  })
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: text }] })
  return { assistant, thread }
}

describe('runs (v2)', () => {
  it('runs to completed with the reply as a message, a step and usage', async () => {
    const { assistant, thread } = await setup()
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, metadata: { k: 'v' } },
      poll,
    )
    expect(run).toMatchObject({
      object: 'thread.run',
      status: 'completed',
      thread_id: thread.id,
      assistant_id: assistant.id,
      model: 'test-scripted',
      instructions: 'Be brief.',
      metadata: { k: 'v' },
      required_action: null,
      last_error: null,
      truncation_strategy: { type: 'auto', last_messages: null },
      tool_choice: 'auto',
      parallel_tool_calls: true,
    })
    expect(run.started_at).toBeGreaterThan(0)
    expect(run.completed_at).toBeGreaterThan(0)
    // an ended run has no deadline any more, as OpenAI shows it (the spec's examples too)
    expect(run.expires_at).toBeNull()
    expect(run.usage!.prompt_tokens).toBeGreaterThan(0)
    expect(run.usage!.completion_tokens).toBeGreaterThan(0)
    const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
    expect(messages.data).toHaveLength(1)
    expect(messages.data[0]).toMatchObject({
      role: 'assistant',
      status: 'completed',
      assistant_id: assistant.id,
      run_id: run.id,
      content: [{ type: 'text', text: { value: 'Hello! How can I help you today?' } }],
    })
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })
    expect(steps.data).toHaveLength(1)
    expect(steps.data[0]).toMatchObject({
      type: 'message_creation',
      status: 'completed',
      step_details: { message_creation: { message_id: messages.data[0].id } },
      usage: run.usage,
    })
    const step = await client.beta.threads.runs.steps.retrieve(steps.data[0].id, {
      thread_id: thread.id,
      run_id: run.id,
    })
    expect(step).toEqual(steps.data[0])
    // the thread is free again
    await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'again' })
  })

  it('function calls: requires_action, then tool outputs, then the answer', async () => {
    const { assistant, thread } = await setup([weather], 'what is the weather in Paris?')
    let run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      poll,
    )
    expect(run.status).toBe('requires_action')
    expect(run.expires_at).toBeGreaterThan(run.created_at + 500)
    const calls = run.required_action!.submit_tool_outputs.tool_calls
    expect(calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
      },
    ])
    // G8: a call id missing
    const missing = await rawJson(t, 'POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
      body: { tool_outputs: [{ tool_call_id: 'call_other', output: 'x' }] },
    })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe(
      `Expected tool outputs for call_ids ['${calls[0].id}'], got ['call_other']`,
    )
    run = await client.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: calls[0].id, output: '22C, sunny' }] },
      poll,
    )
    expect(run.status).toBe('completed')
    expect(run.required_action).toBeNull()
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(message.content[0]).toMatchObject({
      text: { value: 'Tool results: get_weather: 22C, sunny' },
    })
    const steps = await client.beta.threads.runs.steps.list(run.id, {
      thread_id: thread.id,
      order: 'asc',
    })
    expect(steps.data.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ])
    expect(steps.data[0].step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [{ ...calls[0], function: { ...calls[0].function, output: '22C, sunny' } }],
    })
    // G9: the run has ended
    const late = await rawJson(t, 'POST', `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`, {
      body: { tool_outputs: [{ tool_call_id: calls[0].id, output: 'x' }] },
    })
    expect(late.status).toBe(400)
    expect(late.body.error.message).toBe('Runs in status "completed" do not accept tool outputs.')
  })

  it('one active run per thread (G6), cancel and G10', async () => {
    const { assistant, thread } = await setup([weather], 'what is the weather in Paris?')
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      poll,
    )
    expect(run.status).toBe('requires_action')
    const second = await rawJson(t, 'POST', `/threads/${thread.id}/runs`, {
      body: { assistant_id: assistant.id },
    })
    expect(second.status).toBe(400)
    expect(second.body.error.message).toBe(
      `Thread ${thread.id} already has an active run ${run.id}.`,
    )
    const cancelled = await client.beta.threads.runs.cancel(run.id, { thread_id: thread.id })
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.cancelled_at).toBeGreaterThan(0)
    expect(cancelled.expires_at).toBeNull()
    const again = await rawJson(t, 'POST', `/threads/${thread.id}/runs/${run.id}/cancel`)
    expect(again.status).toBe(400)
    expect(again.body.error.message).toBe("Cannot cancel run with status 'cancelled'.")
    // free again
    const next = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
    expect(next.status).toBe('queued')
  })

  it('cancels a run while the model generates', async () => {
    const { assistant, thread } = await setup([], 'go slowly please')
    const run = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
    for (let i = 0; i < 100; i++) {
      const now = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })
      if (now.status === 'in_progress') break
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 150))
    const cancelling = await client.beta.threads.runs.cancel(run.id, { thread_id: thread.id })
    expect(cancelling.status).toBe('cancelling')
    const ended = await client.beta.threads.runs.poll(run.id, { thread_id: thread.id }, poll)
    expect(ended.status).toBe('cancelled')
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(message).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'run_cancelled' },
    })
  })

  it('lists, retrieves and modifies runs; other projects see nothing', async () => {
    const { assistant, thread } = await setup()
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      poll,
    )
    const list = await client.beta.threads.runs.list(thread.id)
    expect(list.data.map((r) => r.id)).toEqual([run.id])
    const modified = await client.beta.threads.runs.update(run.id, {
      thread_id: thread.id,
      metadata: { a: 'b' },
    })
    expect(modified.metadata).toEqual({ a: 'b' })
    const other = await otherProjectClient(t)
    const err = await other.beta.threads.runs
      .retrieve(run.id, { thread_id: thread.id })
      .catch((e) => e)
    expect(err.status).toBe(404)
    const missing = await rawJson(t, 'GET', `/threads/${thread.id}/runs/run_nope`)
    expect(missing.status).toBe(404)
    expect(missing.body.error.message).toBe("No run found with id 'run_nope'.")
  })

  it('runs an empty thread of an assistant without instructions (it failed on an empty prompt)', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-scripted' })
    const run = await client.beta.threads.createAndRunPoll({ assistant_id: assistant.id }, poll)
    expect({ status: run.status, last_error: run.last_error }).toEqual({ status: 'completed', last_error: null })
    const [message] = (await client.beta.threads.messages.list(run.thread_id)).data
    expect(message).toMatchObject({ role: 'assistant', run_id: run.id })
  })

  it('overrides, additional messages, and max_completion_tokens → incomplete', async () => {
    const { assistant, thread } = await setup()
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        model: 'test-echo',
        instructions: 'Other.',
        additional_instructions: 'More.',
        additional_messages: [{ role: 'user', content: 'added' }],
        temperature: 0.5,
        truncation_strategy: { type: 'last_messages', last_messages: 1 },
      },
      poll,
    )
    expect(run).toMatchObject({
      status: 'completed',
      model: 'test-echo',
      instructions: 'Other.\n\nMore.',
      temperature: 0.5,
    })
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(JSON.stringify(message.content)).toContain('added')

    const long = await setup([], 'go slowly '.repeat(1))
    const cut = await client.beta.threads.runs.createAndPoll(
      long.thread.id,
      { assistant_id: long.assistant.id, model: 'test-echo', max_completion_tokens: 256,
        additional_messages: [{ role: 'user', content: 'word '.repeat(600) }] },
      poll,
    )
    expect(cut.status).toBe('incomplete')
    expect(cut.incomplete_details).toEqual({ reason: 'max_completion_tokens' })
  })

  it('creates a thread and runs it', async () => {
    const { assistant } = await setup()
    const run = await client.beta.threads.createAndRunPoll(
      { assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'hello' }] } },
      poll,
    )
    expect(run.status).toBe('completed')
    const messages = await client.beta.threads.messages.list(run.thread_id, { order: 'asc' })
    expect(messages.data.map((m) => m.role)).toEqual(['user', 'assistant'])
  })
})
