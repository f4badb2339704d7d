import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RequestLog } from '../../src/request-log.js'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { signIn, type DashboardSession } from '../helpers/dashboard.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let dash: DashboardSession
let other: { id: string; key: string }

beforeAll(async () => {
  // a request log of 5: the ring's bound is seen through the page
  t = await createTestApp({ dashboard: { requestLogSize: 5 } })
  dash = await signIn(t)
  const project = await adminClient(t).admin.organization.projects.create({ name: 'Other' })
  other = { id: project.id, key: await newProjectKey(t, project.id) }
  const main = t.client()
  for (let i = 0; i < 3; i++) await main.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: `hello ${i}` }] })
  await main.embeddings.create({ model: 'test-embed', input: 'embed me' })
  await t.client(other.key).chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'from the other project' }] })
  await t.ctx.services.usage.flush()
})
afterAll(async () => t.close())

const cardOf = (html: string, id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1]?.trim()

describe('usage page', () => {
  it('charts all usage by default, and each project, model and key apart', async () => {
    const all = await (await dash.get('/dashboard/usage')).text()
    expect(cardOf(all, 'usage-requests')).toBe('4')
    expect(all).toContain('id="chart-requests"')
    const otherOnly = await (await dash.get(`/dashboard/usage?project=${other.id}`)).text()
    expect(cardOf(otherOnly, 'usage-requests')).toBe('1')
    const embeddings = await (await dash.get('/dashboard/usage?kind=embeddings')).text()
    expect(cardOf(embeddings, 'usage-requests')).toBe('1')
    const otherKey = (await t.ctx.services.keys.list({ projectId: other.id }))[0]
    const byKey = await (await dash.get(`/dashboard/usage?key=${otherKey.id}`)).text()
    expect(cardOf(byKey, 'usage-requests')).toBe('1')
    const noModel = await (await dash.get('/dashboard/usage?model=test-scripted')).text()
    expect(cardOf(noModel, 'usage-requests')).toBe('0')
    const hourly = await (await dash.get('/dashboard/usage?width=1h')).text()
    expect(cardOf(hourly, 'usage-requests')).toBe('4')
    // a past range has none
    const past = await (await dash.get('/dashboard/usage?from=2020-01-01&to=2020-01-10')).text()
    expect(cardOf(past, 'usage-requests')).toBe('0')
  })

  it('says why a range cannot be charted', async () => {
    const html = await (await dash.get('/dashboard/usage?from=2024-01-01&to=2024-03-01&width=1m')).text()
    expect(html).toContain('too many to chart')
  })

  it('exports the filtered usage and costs as CSV, one line per bucket, project, model and key', async () => {
    const response = await dash.get('/dashboard/usage.csv?width=1d')
    expect(response.headers.get('content-type')).toContain('text/csv')
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="usage-completions-/)
    const lines = (await response.text()).trim().split('\r\n')
    const header = lines[0].split(',')
    expect(header.slice(0, 5)).toEqual(['start_time', 'end_time', 'project_id', 'model', 'api_key_id'])
    const col = (name: string) => header.indexOf(name)
    const rows = lines.slice(1).map((l) => l.split(','))
    expect(rows.reduce((n, r) => n + Number(r[col('num_model_requests')]), 0)).toBe(4)
    expect(new Set(rows.map((r) => r[col('project_id')])).size).toBe(2)
    const filtered = (await (await dash.get(`/dashboard/usage.csv?project=${other.id}`)).text()).trim().split('\r\n')
    expect(filtered.length).toBe(2)
    expect(filtered[1]).toContain(other.id)

    const costs = (await (await dash.get('/dashboard/costs.csv')).text()).trim().split('\r\n')
    expect(costs[0]).toBe('start_time,end_time,project_id,line_item,amount,currency')
  })
})

describe('request log', () => {
  it('lists the last API requests of this node with status, latency, tokens, model and key, bounded by its size', async () => {
    await t.client().chat.completions.create({ model: 'nope-model', messages: [{ role: 'user', content: 'x' }] }).catch(() => {})
    const html = await (await dash.get('/dashboard/requests')).text()
    const rows = [...html.matchAll(/<tr data-status="(\d+)">/g)].map((m) => m[1])
    // 6 API requests were made since start; the ring keeps 5, the newest first
    expect(rows).toHaveLength(5)
    expect(rows[0]).toBe('404')
    expect(html).toContain('POST <code>/v1/chat/completions</code>')
    expect(html).toMatch(/test-echo<\/td><td>\d+ \/ \d+<\/td>/)
    expect(html).not.toContain('from the other project')
    expect(html).toContain('each node shows its own')
  })

  it('filters by status, model and project', async () => {
    const errors = await (await dash.get('/dashboard/requests?status=4xx')).text()
    expect([...errors.matchAll(/data-status="(\d+)"/g)].map((m) => m[1])).toEqual(['404'])
    const embeds = await (await dash.get('/dashboard/requests?model=test-embed')).text()
    expect([...embeds.matchAll(/data-status=/g)]).toHaveLength(1)
    const byProject = await (await dash.get(`/dashboard/requests?project=${other.id}`)).text()
    expect([...byProject.matchAll(/data-status=/g)]).toHaveLength(1)
    expect(byProject).toContain(other.id)
  })
})

describe('RequestLog', () => {
  it('keeps the newest entries up to its size, newest first, and filters by status class or code', () => {
    const log = new RequestLog(3)
    const entry = (status: number, model?: string) => ({ at: 0, method: 'POST', route: '/v1/x', path: '/v1/x', status, ms: 1, model })
    for (const s of [200, 201, 429, 500]) log.add(entry(s))
    expect(log.recent().map((e) => e.status)).toEqual([500, 429, 201])
    expect(log.recent({ status: '4xx' }).map((e) => e.status)).toEqual([429])
    expect(log.recent({ status: '201' }).map((e) => e.status)).toEqual([201])
    expect(log.recent({}, 1)).toHaveLength(1)
    const off = new RequestLog(0)
    off.add(entry(200))
    expect(off.recent()).toEqual([])
  })
})
