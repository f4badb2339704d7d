import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signIn, type DashboardSession } from '../helpers/dashboard.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let dash: DashboardSession

beforeAll(async () => {
  t = await createTestApp({}, { transport: 'in-process' })
  dash = await signIn(t)
})
afterAll(async () => t.close())

/** The conversation the page carries in its hidden field. */
function conversation(html: string): any[] {
  const value = /name="messages" value="([^"]*)"/.exec(html)![1]
  return JSON.parse(value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'))
}

const TOOLS = JSON.stringify([{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }])

describe('playground', () => {
  it('keeps a multi-turn conversation in the form, with the system prompt and parameters sent each turn', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const settings = { project, model: 'test-echo', system: 'Be brief.', temperature: '0.2', max_tokens: '64', tools: '' }
    const first = await dash.post('/dashboard/playground', { ...settings, messages: '[]', prompt: 'first question' })
    expect(first.status).toBe(200)
    const one = await first.text()
    expect(conversation(one).map((m) => m.role)).toEqual(['user', 'assistant'])
    expect(conversation(one)[1].content).toContain('first question')
    expect(one).toMatch(/prompt \+ \d+ completion tokens/)
    // the settings stay in the form for the next turn
    expect(one).toContain('Be brief.</textarea>')
    expect(one).toContain('name="max_tokens" type="number" min="1" value="64"')
    const second = await (await dash.post('/dashboard/playground', { ...settings, messages: JSON.stringify(conversation(one)), prompt: 'second question' })).text()
    const turns = conversation(second)
    expect(turns.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(second).toContain('first question')
    expect(second).toContain('second question')
    // the playground's calls are usage like any other
    await t.ctx.services.usage.flush()
    const usage = await t.ctx.services.usageReports.usage('completions', { start_time: Math.floor(Date.now() / 1000) - 3600, bucket_width: '1h' })
    expect(usage.data.flatMap((b) => b.results).reduce((n, r: any) => n + r.num_model_requests, 0)).toBe(2)
  })

  it('shows the tool calls a model makes, and sends the tool results back', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const settings = { project, model: 'test-scripted', system: '', temperature: '1', max_tokens: '', tools: TOOLS }
    const asked = await (await dash.post('/dashboard/playground', { ...settings, messages: '[]', prompt: 'what is the weather in Paris?' })).text()
    const turns = conversation(asked)
    const call = turns[1].tool_calls[0]
    expect(call.function.name).toBe('get_weather')
    expect(asked).toContain('calls <code>get_weather</code>')
    expect(asked).toContain(`name="tool_call_id" value="${call.id}"`)
    const answered = await (await dash.post('/dashboard/playground', { ...settings, messages: JSON.stringify(turns), tool_call_id: call.id, tool_output: '{"temperature": 21}', prompt: '' })).text()
    expect(conversation(answered).map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant'])
    expect(answered).toContain(`tool result (${call.id})`)
  })

  it('shows the API error on the page and keeps the conversation as it was', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const bad = await dash.post('/dashboard/playground', { project, model: 'test-echo', temperature: '7', messages: '[]', prompt: 'hi' })
    expect(bad.status).toBe(400)
    const html = await bad.text()
    expect(html).toContain('role="alert"')
    expect(html).toContain('temperature')
    expect(conversation(html)).toEqual([])
    const tools = await dash.post('/dashboard/playground', { project, model: 'test-echo', tools: '[{', messages: '[]', prompt: 'hi' })
    expect(await tools.text()).toContain('The tools are not valid JSON')
    const broken = await dash.post('/dashboard/playground', { project, model: 'test-echo', messages: '{nope', prompt: 'hi' })
    expect(broken.status).toBe(303)
  })
})
