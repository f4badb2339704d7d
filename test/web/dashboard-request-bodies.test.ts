import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { redirect, signIn, type DashboardSession } from '../helpers/dashboard.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// A project's opt-in to keeping prompt and answer text in the dashboard's request log: off by
// default, toggled (and audited) from the project's page, taken from the parsed request and its
// answer (never a header), cut at 8 KB, and gone with its entry.

let t: TestApp
let dash: DashboardSession
let admin: ReturnType<typeof adminClient>['admin']

beforeAll(async () => {
  // the request log is fed by the server's listener: a real server, whatever the environment says
  t = await createTestApp({}, { transport: 'http' })
  dash = await signIn(t)
  admin = adminClient(t).admin
})
afterAll(async () => t.close())

/** The project's entries in the request log, newest first, once `count` of them are there. */
async function entries(projectId: string, count: number) {
  for (let i = 0; i < 200; i++) {
    const found = t.ctx.requestLog.recent({ projectId })
    if (found.length >= count) return found
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`the request log never held ${count} entries of ${projectId}`)
}

async function detail(seq: number | undefined) {
  const response = await dash.get(`/dashboard/requests/${seq}`)
  return { status: response.status, html: await response.text() }
}

/** The text of the page element with this id (the prompt or the answer), unescaped. */
function textOf(html: string, id: string): string {
  const match = new RegExp(`id="${id}">([\\s\\S]*?)</`).exec(html)
  return (match?.[1] ?? '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim()
}

async function newProject(name: string) {
  const { to } = redirect(await dash.post('/dashboard/projects', { name }))
  const projectId = to.split('/').pop()!
  return { projectId, key: await newProjectKey(t, projectId) }
}

describe('prompt and answer text in the request log', () => {
  it('keeps none by default', async () => {
    const { projectId, key } = await newProject('Private')
    await t.client(key).chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'a private thought' }] })
    const [entry] = await entries(projectId, 1)
    expect(entry.prompt).toBeUndefined()
    const { html } = await detail(entry.seq)
    expect(textOf(html, 'prompt')).toBe('Not kept.')
    expect(html).not.toContain('a private thought')
    expect(await (await dash.get(`/dashboard/projects/${projectId}`)).text()).toContain('id="request-log-bodies-state">not kept<')
  })

  it('keeps them once the project opts in (audited), for chat, streams, completions, responses and embeddings; never the key', async () => {
    const { projectId, key } = await newProject('Debugging')
    const on = await dash.post(`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'on' })
    expect(redirect(on).notice).toContain('now keeps')
    const [entry] = (await admin.organization.auditLogs.list({ event_types: ['project.updated'], limit: 1 })).data as any[]
    expect(entry.project.id).toBe(projectId)
    expect(entry['project.updated']).toMatchObject({ id: projectId, changes_requested: { request_log_bodies: true }, before: { request_log_bodies: false }, after: { request_log_bodies: true } })
    expect(entry.actor.api_key.id).toMatch(/^key_/)
    expect(await (await dash.get(`/dashboard/projects/${projectId}`)).text()).toContain('id="request-log-bodies-state">kept<')

    const client = t.client(key)
    await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hello plain' }] })
    const stream = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hello streamed' }], stream: true })
    let streamed = ''
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? ''
    await client.completions.create({ model: 'test-echo', prompt: 'complete me' })
    const response = await client.responses.create({ model: 'test-echo', instructions: 'Reply.', input: 'hello responses' })
    const events = await client.responses.create({ model: 'test-echo', input: 'hello response stream', stream: true })
    let streamedResponse = ''
    for await (const event of events) if (event.type === 'response.output_text.delta') streamedResponse += event.delta
    await client.embeddings.create({ model: 'test-embed', input: 'embed me' })
    const log = (await entries(projectId, 6)).reverse()

    const plain = await detail(log[0].seq)
    expect(textOf(plain.html, 'prompt')).toBe('system: Be terse.\nuser: hello plain')
    expect(textOf(plain.html, 'answer')).toContain('hello plain')
    const chunked = await detail(log[1].seq)
    expect(textOf(chunked.html, 'prompt')).toBe('user: hello streamed')
    expect(textOf(chunked.html, 'answer')).toBe(streamed)
    expect(textOf((await detail(log[2].seq)).html, 'prompt')).toBe('complete me')
    expect(textOf((await detail(log[2].seq)).html, 'answer')).not.toBe('Not kept.')
    const responded = await detail(log[3].seq)
    expect(textOf(responded.html, 'prompt')).toBe('Reply.\nhello responses')
    expect(textOf(responded.html, 'answer')).toBe(response.output_text)
    expect(textOf((await detail(log[4].seq)).html, 'answer')).toBe(streamedResponse)
    const embedded = await detail(log[5].seq)
    expect(textOf(embedded.html, 'prompt')).toBe('embed me')
    expect(textOf(embedded.html, 'answer')).toBe('Not kept.')

    // the list marks them; no page and no entry holds the key or a header
    const list = await (await dash.get(`/dashboard/requests?project=${projectId}`)).text()
    expect(list).toContain('text kept')
    for (const e of log) {
      expect(JSON.stringify(e)).not.toContain(key)
      expect(JSON.stringify(e).toLowerCase()).not.toContain('bearer')
      expect((await detail(e.seq)).html).not.toContain(key)
    }
  })

  it('cuts each side at 8 KB (UTF-8, never inside a character), and turning it off forgets what was kept', async () => {
    const { projectId, key } = await newProject('Long prompts')
    await dash.post(`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'on' })
    const long = 'é'.repeat(6000)
    await t.client(key).chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: long }] })
    const [entry] = await entries(projectId, 1)
    expect(entry.prompt!.truncated).toBe(true)
    expect(Buffer.byteLength(entry.prompt!.text)).toBeLessThanOrEqual(8192)
    expect(Buffer.byteLength(entry.prompt!.text)).toBeGreaterThan(8180)
    expect(entry.prompt!.text).toMatch(/^user: é+$/)
    expect(entry.answer!.truncated).toBe(true)
    expect((await detail(entry.seq)).html).toContain('Cut at 8 KB.')

    const off = await dash.post(`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'off' })
    expect(redirect(off).notice).toContain('no longer keeps')
    const [audit] = (await admin.organization.auditLogs.list({ event_types: ['project.updated'], limit: 1 })).data as any[]
    expect(audit['project.updated']).toMatchObject({ id: projectId, changes_requested: { request_log_bodies: false }, after: { request_log_bodies: false } })
    expect(textOf((await detail(entry.seq)).html, 'prompt')).toBe('Not kept.')
    await t.client(key).chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'after off' }] })
    const [later] = await entries(projectId, 2)
    expect(later.prompt).toBeUndefined()

    const bad = await dash.post(`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'maybe' })
    expect(redirect(bad).error).toBe("keep must be 'on' or 'off'.")
  })

  it('keeps the text no longer than its entry: dashboard.requestLogSize bounds both', async () => {
    const small = await createTestApp({ dashboard: { requestLogSize: 2 } } as any, { transport: 'http' })
    try {
      const session = await signIn(small)
      const { to } = redirect(await session.post('/dashboard/projects', { name: 'Tiny log' }))
      const projectId = to.split('/').pop()!
      await session.post(`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'on' })
      const client = small.client(await newProjectKey(small, projectId))
      for (const word of ['one', 'two', 'three']) await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: word }] })
      for (let i = 0; i < 200 && small.ctx.requestLog.recent().length < 2; i++) await new Promise((r) => setTimeout(r, 10))
      await new Promise((r) => setTimeout(r, 50))
      const kept = small.ctx.requestLog.recent()
      expect(kept.map((e) => e.prompt?.text)).toEqual(['user: three', 'user: two'])
      const first = kept[1].seq! - 1
      const gone = await session.get(`/dashboard/requests/${first}`)
      expect(gone.status).toBe(404)
      expect(await gone.text()).not.toContain('user: one')
      expect((await session.get(`/dashboard/requests/${kept[0].seq}`)).status).toBe(200)
      expect((await session.get('/dashboard/requests/abc')).status).toBe(404)
    } finally {
      await small.close()
    }
  })
})

describe('the request log without a session', () => {
  it('sends a visitor to the sign-in page, not to a request', async () => {
    const response = await t.app.request('/dashboard/requests/1')
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/dashboard/login')
  })
})
