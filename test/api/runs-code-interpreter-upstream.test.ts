import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { v1Client } from '../helpers/assistants.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The code interpreter driven by an upstream model (a fake OpenAI-compatible server that answers
// with a code_interpreter function call, then with text), a call mixed with a user function, and
// a host that cannot sandbox.

const poll = { pollIntervalMs: 20 }
const call = (id: string, code: string) => ({ id, name: 'code_interpreter', arguments: JSON.stringify({ code }) })

describeSandbox('code interpreter on an upstream model', () => {
  let fake: FakeUpstream
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await createTestApp({
      upstreams: [{ id: 'fake', baseURL: fake.baseURL }],
      models: [{ id: 'gpt-fake', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'fake-model' }],
      codeInterpreter: sandboxConfig({ spareKernels: 0 }),
    })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })
  beforeEach(() => fake.reset())

  it('gets the tool as a function, and reads what its code printed (v2 and v1)', async () => {
    for (const sdk of [client, v1Client(t)]) {
      fake.once({ toolCalls: [call('call_1', 'print(2**100)')] })
      fake.once({ text: 'It is 1267650600228229401496703205376.' })
      const assistant = await sdk.beta.assistants.create({ model: 'gpt-fake', tools: [{ type: 'code_interpreter' }] })
      const thread = await sdk.beta.threads.create({ messages: [{ role: 'user', content: 'What is 2**100? Use Python.' }] })
      const run = await sdk.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
      expect(run.status).toBe('completed')
      // an upstream's chunks reach the run as its own SSE frames (the passthrough); the run
      // read none of them before (an empty answer)
      const [answer] = (await sdk.beta.threads.messages.list(thread.id, { run_id: run.id })).data
      expect(answer.content).toEqual([{ type: 'text', text: { value: 'It is 1267650600228229401496703205376.', annotations: [] } }])
      const [first, second] = fake.requests.slice(-2).map((r) => r.body)
      const offered = first.tools.find((tool: any) => tool.function.name === 'code_interpreter')
      expect(offered.function.parameters.required).toEqual(['code'])
      expect(offered.function.description).toContain('/mnt/data')
      expect(second.messages.slice(-2)).toEqual([
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'code_interpreter', arguments: call('', 'print(2**100)').arguments } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '1267650600228229401496703205376' },
      ])
      const steps = await sdk.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
      expect(steps.data[0].step_details).toEqual({
        type: 'tool_calls',
        tool_calls: [
          {
            id: 'call_1',
            type: 'code_interpreter',
            code_interpreter: { input: 'print(2**100)', outputs: [{ type: 'logs', logs: '1267650600228229401496703205376\n' }] },
          },
        ],
      })
    }
  })

  it('tool_choice code_interpreter forces the function until the run called it', async () => {
    fake.once({ toolCalls: [call('call_forced', 'print(1)')] })
    fake.once({ text: 'One.' })
    const assistant = await client.beta.assistants.create({ model: 'gpt-fake', tools: [{ type: 'code_interpreter' }] })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] })
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'code_interpreter' } },
      poll,
    )
    expect(run).toMatchObject({ status: 'completed', tool_choice: { type: 'code_interpreter' } })
    expect(fake.requests.slice(-2).map((r) => r.body.tool_choice)).toEqual([
      { type: 'function', function: { name: 'code_interpreter' } },
      'auto',
    ])
  })

  it('a built-in call beside a user function: the code runs, the function waits for its output', async () => {
    fake.once({
      toolCalls: [call('call_code', 'print(6 * 7)'), { id: 'call_fn', name: 'lookup', arguments: '{}' }],
    })
    fake.once({ text: 'Done.' })
    const assistant = await client.beta.assistants.create({
      model: 'gpt-fake',
      tools: [{ type: 'code_interpreter' }, { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'go' }] })
    const waiting = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(waiting.status).toBe('requires_action')
    expect(waiting.required_action!.submit_tool_outputs.tool_calls.map((c) => c.id)).toEqual(['call_fn'])
    const run = await client.beta.threads.runs.submitToolOutputsAndPoll(
      waiting.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_fn', output: 'found' }] },
      poll,
    )
    expect(run.status).toBe('completed')
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    expect(steps.data[0]).toMatchObject({
      status: 'completed',
      step_details: {
        tool_calls: [
          { id: 'call_code', type: 'code_interpreter', code_interpreter: { outputs: [{ type: 'logs', logs: '42\n' }] } },
          { id: 'call_fn', type: 'function', function: { name: 'lookup', output: 'found' } },
        ],
      },
    })
    const prompt = fake.last().body.messages
    expect(prompt.slice(-2)).toEqual([
      { role: 'tool', tool_call_id: 'call_code', content: '42' },
      { role: 'tool', tool_call_id: 'call_fn', content: 'found' },
    ])
  })
})

describe('code interpreter on a host that cannot sandbox', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: { python: '/nonexistent/python3' } })
    t.ctx.jobs.start()
  })
  afterAll(async () => t?.close())

  it('fails the run with a last_error naming what to install; the server serves on', async () => {
    const client = t.client()
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: '```python\nprint(1)\n```' }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('failed')
    expect(run.last_error!.code).toBe('server_error')
    expect(run.last_error!.message).toContain('/nonexistent/python3')
    expect(run.last_error!.message).toContain('plinth doctor')
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })
    expect(steps.data[0]).toMatchObject({ type: 'tool_calls', status: 'failed', last_error: run.last_error })
    // without code to run, the same assistant answers
    const other = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] })
    const answered = await client.beta.threads.runs.createAndPoll(other.id, { assistant_id: assistant.id }, poll)
    expect(answered.status).toBe('completed')
  })
})
