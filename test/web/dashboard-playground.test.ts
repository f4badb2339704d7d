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

/** The events of a playground stream: each `event:` name with its JSON data. */
async function events(response: Response): Promise<{ event: string; data: any }[]> {
  const text = await response.text()
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message'
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n')
      return { event, data: JSON.parse(data) }
    })
}

describe('the playground stream', () => {
  it('sends the answer as delta events, then the form with the turn kept and its usage', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const settings = { project, model: 'test-scripted', system: 'Be slow.', temperature: '1', max_tokens: '', tools: '' }
    const response = await dash.post('/dashboard/playground/stream', { ...settings, messages: '[]', prompt: 'go slowly' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const all = await events(response)
    const deltas = all.filter((e) => e.event === 'delta')
    expect(deltas.length).toBeGreaterThan(5)
    expect(deltas.map((e) => e.data.content).join('')).toBe('a b c d e f g h i j k l m n o p q r s t u v w x y z')
    const done = all[all.length - 1]
    expect(done.event).toBe('done')
    expect(all.filter((e) => e.event === 'done')).toHaveLength(1)
    const turns = conversation(done.data.html)
    expect(turns).toEqual([
      { role: 'user', content: 'go slowly' },
      { role: 'assistant', content: 'a b c d e f g h i j k l m n o p q r s t u v w x y z' },
    ])
    expect(done.data.html).toMatch(/^<form method="post" action="\/dashboard\/playground" id="pg">/)
    expect(done.data.html).toMatch(/id="usage">\d+ prompt \+ \d+ completion tokens · stop</)
    expect(done.data.html).toContain('Be slow.</textarea>')
    expect(done.data.html).toContain(`name="_csrf" value="${dash.csrf}"`)
  })

  it('streams a tool call: the form that follows asks for its result', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const settings = { project, model: 'test-scripted', system: '', temperature: '1', max_tokens: '', tools: TOOLS }
    const all = await events(await dash.post('/dashboard/playground/stream', { ...settings, messages: '[]', prompt: 'what is the weather in Paris?' }))
    const html = all[all.length - 1].data.html
    const [, assistant] = conversation(html)
    expect(assistant.content).toBeNull()
    expect(assistant.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } })
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toMatchObject({ city: expect.stringMatching(/paris/i) })
    expect(html).toContain(`name="tool_call_id" value="${assistant.tool_calls[0].id}"`)
  })

  it('ends with the error and the conversation as it was when the turn fails', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    const before = [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'kept' }]
    const all = await events(await dash.post('/dashboard/playground/stream', { project, model: 'test-echo', temperature: '7', messages: JSON.stringify(before), prompt: 'hi' }))
    expect(all.map((e) => e.event)).toEqual(['done'])
    expect(all[0].data.html).toContain('role="alert"')
    expect(all[0].data.html).toContain('temperature')
    expect(conversation(all[0].data.html)).toEqual(before)
    const unknown = await events(await dash.post('/dashboard/playground/stream', { project, model: 'no-such-model', messages: '[]', prompt: 'hi' }))
    expect(unknown[0].data.html).toContain('no-such-model')
    expect(conversation(unknown[0].data.html)).toEqual([])
  })

  it('refuses a stream without the session token, with a wrong one or from another origin, calling no model', async () => {
    const project = (await t.ctx.storage.db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id
    await t.ctx.services.usage.flush()
    const since = Math.floor(Date.now() / 1000) - 3600
    const count = async () => (await t.ctx.services.usageReports.usage('completions', { start_time: since, bucket_width: '1h' })).data.flatMap((b) => b.results).reduce((n, r: any) => n + r.num_model_requests, 0)
    const before = await count()
    const fields = { project, model: 'test-echo', messages: '[]', prompt: 'forged' }
    for (const [extra, headers] of [
      [{ _csrf: '' }, {}],
      [{ _csrf: 'x'.repeat(dash.csrf.length) }, {}],
      [{}, { origin: 'https://evil.example' }],
    ] as const) {
      const response = await dash.post('/dashboard/playground/stream', { ...fields, ...extra }, headers)
      expect(response.status).toBe(403)
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await response.text()).toContain('CSRF')
    }
    const anonymous = await t.app.request('/dashboard/playground/stream', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
    expect(anonymous.status).toBe(303)
    await t.ctx.services.usage.flush()
    expect(await count()).toBe(before)
  })
})
