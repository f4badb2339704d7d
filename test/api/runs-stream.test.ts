import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// Streamed runs: the event sequence of AssistantStreamEvent, each payload checked against the
// spec by the validating fetch, and the SDK's stream helpers.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  t.ctx.jobs.start()
  client = t.client()
})
afterAll(async () => t.close())

const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
}

async function setup(text: string, tools: OpenAI.Beta.AssistantTool[] = []) {
  const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools })
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: text }] })
  return { assistant, thread }
}

/** The raw SSE events of a POST, as [event, data] pairs. */
async function rawEvents(path: string, body: unknown) {
  const res = await t.fetch(`http://plinth.test/v1${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${PROJECT_KEY}`,
      'openai-beta': 'assistants=v2',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  })
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const text = await res.text()
  return text
    .trim()
    .split('\n\n')
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1]
      const data = /^data: (.*)$/m.exec(frame)![1]
      return [event, data === '[DONE]' ? data : JSON.parse(data)] as [string, any]
    })
}

describe('streamed runs', () => {
  it('sends the full event sequence, ending with event: done', async () => {
    const { assistant, thread } = await setup('hello')
    const events = await rawEvents(`/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
      stream: true,
    })
    const names = events.map(([e]) => e)
    expect(names.filter((n) => n !== 'thread.message.delta')).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
      'done',
    ])
    const deltas = events.filter(([e]) => e === 'thread.message.delta').map(([, d]) => d)
    expect(deltas.map((d) => d.delta.content[0].text.value).join('')).toBe(
      'Hello! How can I help you today?',
    )
    expect(events.at(-1)).toEqual(['done', '[DONE]'])
    const completed = events.find(([e]) => e === 'thread.run.completed')![1]
    expect(completed.usage.total_tokens).toBeGreaterThan(0)
  })

  it('works with the SDK helpers: textDelta and finalRun', async () => {
    const { assistant, thread } = await setup('hello')
    let text = ''
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('textDelta', (delta) => (text += delta.value ?? ''))
    const run = await stream.finalRun()
    expect(run.status).toBe('completed')
    expect(text).toBe('Hello! How can I help you today?')
  })

  it('tool calls: requires_action, then submitToolOutputsStream to the end', async () => {
    const { assistant, thread } = await setup('what is the weather', [weather])
    const first = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id })
    const events: string[] = []
    first.on('event', (e) => events.push(e.event))
    const waiting = await first.finalRun()
    expect(waiting.status).toBe('requires_action')
    expect(events.filter((e) => e !== 'thread.run.step.delta')).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.requires_action',
    ])
    expect(events).toContain('thread.run.step.delta')
    const call = waiting.required_action!.submit_tool_outputs.tool_calls[0]
    let text = ''
    const second = client.beta.threads.runs
      .submitToolOutputsStream(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'sunny' }],
      })
      .on('textDelta', (delta) => (text += delta.value ?? ''))
    const run = await second.finalRun()
    expect(run.status).toBe('completed')
    expect(text).toBe('Tool results: get_weather: sunny')
  })

  it('streams tool calls as step deltas as the model writes them', async () => {
    const { assistant, thread } = await setup('what is the weather in Paris?', [weather])
    const events = await rawEvents(`/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
      stream: true,
    })
    const names = events.map(([e]) => e)
    const created = names.indexOf('thread.run.step.created')
    expect(names.slice(0, created)).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
    ])
    const rest = names.slice(created)
    const deltaCount = rest.filter((n) => n === 'thread.run.step.delta').length
    expect(deltaCount).toBeGreaterThanOrEqual(1)
    expect(rest).toEqual([
      'thread.run.step.created',
      'thread.run.step.in_progress',
      ...Array(deltaCount).fill('thread.run.step.delta'),
      'thread.run.requires_action',
      'done',
    ])
    const step = events[created][1]
    expect(step).toMatchObject({
      type: 'tool_calls',
      status: 'in_progress',
      step_details: { type: 'tool_calls', tool_calls: [] },
    })
    const deltas = events.filter(([e]) => e === 'thread.run.step.delta').map(([, d]) => d)
    for (const d of deltas) expect(d.id).toBe(step.id)
    const parts = deltas.flatMap((d) => d.delta.step_details.tool_calls)
    expect(parts[0]).toMatchObject({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: { name: 'get_weather', output: null },
    })
    expect(parts.slice(1).every((p: any) => p.id === undefined && p.function.name === undefined)).toBe(true)
    const waiting = events.find(([e]) => e === 'thread.run.requires_action')![1]
    const [call] = waiting.required_action.submit_tool_outputs.tool_calls
    expect(parts[0].id).toBe(call.id)
    expect(parts.map((p: any) => p.function.arguments).join('')).toBe(call.function.arguments)
    // the row the events named holds the whole call, still in_progress until outputs come
    const row = await client.beta.threads.runs.steps.retrieve(step.id, {
      thread_id: thread.id,
      run_id: waiting.id,
    })
    expect(row).toMatchObject({
      status: 'in_progress',
      step_details: {
        type: 'tool_calls',
        tool_calls: [{ id: call.id, type: 'function', function: { ...call.function, output: null } }],
      },
    })
    const steps = await client.beta.threads.runs.steps.list(waiting.id, { thread_id: thread.id })
    expect(steps.data.map((s) => s.id)).toEqual([step.id])
  })

  it('the SDK helper sees the tool calls: toolCallCreated, toolCallDelta, finalRun', async () => {
    const { assistant, thread } = await setup('what is the weather in Paris?', [weather])
    const created: { id?: string; name?: string; arguments: string }[] = []
    let args = ''
    let deltas = 0
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('toolCallCreated', (call) => {
        if (call.type !== 'function') return
        created.push({ id: call.id, name: call.function.name, arguments: call.function.arguments })
        args += call.function.arguments
      })
      .on('toolCallDelta', (delta) => {
        deltas++
        if (delta.type === 'function') args += delta.function?.arguments ?? ''
      })
    const run = await stream.finalRun()
    expect(run.status).toBe('requires_action')
    const calls = run.required_action!.submit_tool_outputs.tool_calls
    expect(calls).toHaveLength(1)
    expect(created).toHaveLength(1)
    expect(created[0]).toMatchObject({ id: calls[0].id, name: 'get_weather' })
    expect(deltas).toBeGreaterThanOrEqual(1)
    expect(args).toBe(calls[0].function.arguments)
    expect(args).toBe('{"city":"Paris","unit":"celsius"}')
  })

  it('createAndRunStream starts with thread.created', async () => {
    const { assistant } = await setup('x')
    const events = await rawEvents('/threads/runs', {
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'hello' }] },
      stream: true,
    })
    expect(events[0][0]).toBe('thread.created')
    expect(events[1][0]).toBe('thread.run.created')
    expect(events[1][1].thread_id).toBe(events[0][1].id)
    const stream = client.beta.threads.createAndRunStream({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'hello' }] },
    })
    expect((await stream.finalRun()).status).toBe('completed')
  })

  it('a failing model ends the run failed, in the stream', async () => {
    const { assistant, thread } = await setup('fail midway')
    const events = await rawEvents(`/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
      stream: true,
    })
    const failed = events.find(([e]) => e === 'thread.run.failed')![1]
    expect(failed.last_error).toEqual({
      code: 'server_error',
      message: 'Scripted failure after two chunks',
    })
    expect(events.map(([e]) => e)).toContain('thread.run.step.failed')
    expect(events.at(-1)![0]).toBe('done')
  })
})
