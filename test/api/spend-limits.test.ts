import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { SpendTracker } from '../../src/domain/limits/spend.js'
import { storageCases } from '../helpers/pg.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { closeRealtimeClients, connect } from '../helpers/realtime.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Spend limits and alerts (docs/usage-and-limits.md, "Spend limits") through the official SDK 6,
// on SQLite and on PostgreSQL when TEST_PG_URL is set. The spec file has no such endpoints: the
// shapes are SDK 6's, checked field by field.

type OrgLimit = OpenAI.Admin.Organization.OrganizationSpendLimit
type ProjectLimit = OpenAI.Admin.Organization.Projects.ProjectSpendLimit
type OrgAlert = OpenAI.Admin.Organization.OrganizationSpendAlert
type ProjectAlert = OpenAI.Admin.Organization.Projects.ProjectSpendAlert

const QUOTA =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.'

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OpenAI.APIError)
  return error as InstanceType<typeof OpenAI.APIError>
}

async function expectQuota(promise: Promise<unknown>) {
  const error = await failure(promise)
  expect(error.status).toBe(429)
  expect(error.error).toEqual({ message: QUOTA, type: 'insufficient_quota', param: null, code: 'insufficient_quota' })
}

function expectLimit(limit: OrgLimit | ProjectLimit, object: string, threshold: number, status: 'inactive' | 'enforcing') {
  expect(Object.keys(limit).sort()).toEqual(['currency', 'enforcement', 'interval', 'object', 'threshold_amount'])
  expect(limit.object).toBe(object)
  expect(limit.threshold_amount).toBe(threshold)
  expect(limit.currency).toBe('USD')
  expect(limit.interval).toBe('month')
  expect(limit.enforcement).toEqual({ status })
}

function expectAlert(alert: OrgAlert | ProjectAlert, object: string, threshold: number, recipients: string[], prefix: string | null) {
  expect(Object.keys(alert).sort()).toEqual(['currency', 'id', 'interval', 'notification_channel', 'object', 'threshold_amount'])
  expect(alert.id).toMatch(/^spend_alert_/)
  expect(alert.object).toBe(object)
  expect(alert.threshold_amount).toBe(threshold)
  expect(alert.currency).toBe('USD')
  expect(alert.interval).toBe('month')
  expect(alert.notification_channel).toEqual({ type: 'email', recipients, subject_prefix: prefix })
}

const channel = { type: 'email' as const, recipients: ['ops@example.com'] }
const chat = (client: OpenAI) => client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hello there' }] })

describe.each(storageCases())('spend limits and alerts on $name', ({ create }) => {
  let t: TestApp
  let cleanup: (() => Promise<void>) | undefined
  let admin: OpenAI['admin']['organization']
  let client: OpenAI
  let other: OpenAI
  let projectId: string

  beforeAll(async () => {
    const storage = create('spend_limits')
    cleanup = storage.cleanup
    // priced so that one request costs dollars: a limit of 1 cent is reached by the first
    t = await createTestApp({ pricing: { models: { 'test-echo': { input: 100_000, output: 100_000 }, 'test-image': { image: 1 } } } }, { storage: storage.config })
    admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization
    client = t.client()
    other = await otherProjectClient(t)
    projectId = t.ctx.bootstrap.created!.project.id
  })
  afterAll(async () => {
    closeRealtimeClients()
    await t?.close()
    await cleanup?.()
  })

  it('creates, reads, replaces and deletes the organization limit, audit-logged', async () => {
    expect((await failure(admin.spendLimit.retrieve())).status).toBe(404)
    expectLimit(await admin.spendLimit.update({ threshold_amount: 5_000_000, currency: 'USD', interval: 'month' }), 'organization.spend_limit', 5_000_000, 'inactive')
    expectLimit(await admin.spendLimit.retrieve(), 'organization.spend_limit', 5_000_000, 'inactive')
    expectLimit(await admin.spendLimit.update({ threshold_amount: 6_000_000, currency: 'USD', interval: 'month' }), 'organization.spend_limit', 6_000_000, 'inactive')
    const deleted: OpenAI.Admin.Organization.OrganizationSpendLimitDeleted = await admin.spendLimit.delete()
    expect(deleted).toEqual({ object: 'organization.spend_limit.deleted', deleted: true })
    expect((await failure(admin.spendLimit.delete())).status).toBe(404)
    const events = await admin.auditLogs.list({ event_types: ['spend_limit.updated', 'spend_limit.deleted'] as never })
    expect(events.data.map((e) => e.type)).toEqual(['spend_limit.deleted', 'spend_limit.updated', 'spend_limit.updated'])
  })

  it('rejects what the SDK types do not allow, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ threshold_amount: 100, currency: 'EUR', interval: 'month' }, 'currency'],
      [{ threshold_amount: 100, currency: 'USD', interval: 'year' }, 'interval'],
      [{ threshold_amount: -1, currency: 'USD', interval: 'month' }, 'threshold_amount'],
      [{ threshold_amount: 1.5, currency: 'USD', interval: 'month' }, 'threshold_amount'],
      [{ currency: 'USD', interval: 'month' }, 'threshold_amount'],
    ]
    for (const [body, param] of cases) {
      const error = await failure(admin.spendLimit.update(body as never))
      expect(error.status).toBe(400)
      expect(error.error).toMatchObject({ type: 'invalid_request_error', param })
    }
    const alert = await failure(admin.spendAlerts.create({ threshold_amount: 1, currency: 'USD', interval: 'month', notification_channel: { type: 'sms', recipients: ['x'] } } as never))
    expect(alert.status).toBe(400)
    expect(alert.error).toMatchObject({ type: 'invalid_request_error', param: 'notification_channel.type' })
    expect((await failure(admin.projects.spendLimit.retrieve('proj_missing'))).status).toBe(404)
  })

  it('refuses project keys (admin scope)', async () => {
    const asProject = t.client(PROJECT_KEY, { adminAPIKey: PROJECT_KEY }).admin.organization
    expect((await failure(asProject.spendLimit.retrieve())).status).toBe(401)
    expect((await failure(asProject.spendAlerts.list())).status).toBe(401)
    expect((await failure(asProject.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' }))).status).toBe(401)
  })

  it("stops a project's billable requests once its month's cost reaches the limit", async () => {
    expectLimit(await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' }), 'project.spend_limit', 1, 'inactive')
    await chat(client)
    // retrieving waits for this node's usage rows: the request's cost is counted by then
    expectLimit(await admin.projects.spendLimit.retrieve(projectId), 'project.spend_limit', 1, 'enforcing')
    await expectQuota(chat(client)) // the fast path
    await expectQuota(client.images.generate({ model: 'test-image', prompt: 'a cat' })) // a Hono route
    await expectQuota(client.embeddings.create({ model: 'test-embed', input: 'x' }))
    // another project is not concerned
    await chat(other)
    // raising the limit lets requests through again
    expectLimit(await admin.projects.spendLimit.update(projectId, { threshold_amount: 1_000_000_000, currency: 'USD', interval: 'month' }), 'project.spend_limit', 1_000_000_000, 'inactive')
    await chat(client)
    await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' })
    await expectQuota(chat(client))
    const deleted: OpenAI.Admin.Organization.Projects.ProjectSpendLimitDeleted = await admin.projects.spendLimit.delete(projectId)
    expect(deleted).toEqual({ object: 'project.spend_limit.deleted', deleted: true })
    await chat(client)
  })

  it('fails a Realtime response.create with the quota error', async () => {
    await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' })
    const c = connect(t)
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'] } } as never)
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one' }] } })
    c.rt.send({ type: 'response.create' })
    const done = await c.next('response.done')
    expect(done.response.status).toBe('failed')
    expect(done.response.status_details.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' })
    c.rt.close()
    await admin.projects.spendLimit.delete(projectId)
  })

  it('refuses batch creation while the limit is reached', async () => {
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] } })
    const file = await client.files.create({ file: await toFile(Buffer.from(line + '\n'), 'in.jsonl'), purpose: 'batch' })
    const create = () => client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' })
    await expectQuota(create())
    await admin.projects.spendLimit.delete(projectId)
    expect((await create()).object).toBe('batch')
  })

  it('refuses assistant runs while the limit is reached (they bill turn by turn, outside the rate limits)', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-echo' })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] })
    await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' })
    await expectQuota(client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }))
    await expectQuota(client.beta.threads.createAndRun({ assistant_id: assistant.id }))
    await admin.projects.spendLimit.delete(projectId)
    expect((await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })).object).toBe('thread.run')
  })

  it("another node sees the limit through the change feed and the month's spend from storage", async () => {
    // a second tracker on the same database: what another node of the cluster holds
    const node = new SpendTracker(t.ctx.storage, t.ctx.config.pricing)
    try {
      await node.start()
      expect(node.over.size).toBe(0)
      await admin.projects.spendLimit.update(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month' })
      await vi.waitFor(() => expect(node.over.has(projectId)).toBe(true))
      expect(node.spentCents(projectId)).toBeGreaterThan(100)
      // its spend is the costs API's, for this month
      const day = Math.floor(Date.now() / 86_400_000) * 86_400
      const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) / 1000
      const costs = await admin.usage.costs({ start_time: monthStart, end_time: day + 86_400, group_by: ['project_id'], limit: 31 })
      const cents = costs.data.flatMap((b) => b.results).map((r) => r as OpenAI.Admin.Organization.UsageCodeInterpreterSessionsResponse.Data.OrganizationCostsResult)
        .filter((r) => r.project_id === projectId)
        .reduce((sum, r) => sum + r.amount!.value! * 100, 0)
      expect(node.spentCents(projectId)).toBeCloseTo(cents, 4)
      await admin.projects.spendLimit.delete(projectId)
      await vi.waitFor(() => expect(node.over.size).toBe(0))
    } finally {
      node.stop()
    }
  })

  it('stops every project once the organization reaches its limit', async () => {
    expectLimit(await admin.spendLimit.update({ threshold_amount: 1, currency: 'USD', interval: 'month' }), 'organization.spend_limit', 1, 'enforcing')
    await expectQuota(chat(client))
    await expectQuota(chat(other))
    await expectQuota(other.images.generate({ model: 'test-image', prompt: 'a cat' }))
    await admin.spendLimit.delete()
    await chat(other)
  })

  it('serves alert CRUD for the organization and a project', async () => {
    const created = await admin.spendAlerts.create({ threshold_amount: 500_000_000, currency: 'USD', interval: 'month', notification_channel: channel })
    expectAlert(created, 'organization.spend_alert', 500_000_000, ['ops@example.com'], null)
    expectAlert(await admin.spendAlerts.retrieve(created.id), 'organization.spend_alert', 500_000_000, ['ops@example.com'], null)
    const updated = await admin.spendAlerts.update(created.id, {
      threshold_amount: 600_000_000,
      currency: 'USD',
      interval: 'month',
      notification_channel: { type: 'email', recipients: ['a@example.com', 'b@example.com'], subject_prefix: '[plinth]' },
    })
    expectAlert(updated, 'organization.spend_alert', 600_000_000, ['a@example.com', 'b@example.com'], '[plinth]')
    const second = await admin.spendAlerts.create({ threshold_amount: 700_000_000, currency: 'USD', interval: 'month', notification_channel: channel })
    const page = await admin.spendAlerts.list()
    expect(page.data.map((a) => a.id)).toEqual([created.id, second.id])
    const paged: string[] = []
    for await (const a of admin.spendAlerts.list({ limit: 1 })) paged.push(a.id)
    expect(paged).toEqual([created.id, second.id])
    expect((await admin.spendAlerts.list({ before: second.id })).data.map((a) => a.id)).toEqual([created.id])

    const own = await admin.projects.spendAlerts.create(projectId, { threshold_amount: 800_000_000, currency: 'USD', interval: 'month', notification_channel: channel })
    expectAlert(own, 'project.spend_alert', 800_000_000, ['ops@example.com'], null)
    expectAlert(await admin.projects.spendAlerts.retrieve(own.id, { project_id: projectId }), 'project.spend_alert', 800_000_000, ['ops@example.com'], null)
    expect((await admin.projects.spendAlerts.list(projectId)).data.map((a) => a.id)).toEqual([own.id])
    // a project's alert is not the organization's
    expect((await failure(admin.spendAlerts.retrieve(own.id))).status).toBe(404)

    for (const id of [created.id, second.id]) {
      const gone: OpenAI.Admin.Organization.OrganizationSpendAlertDeleted = await admin.spendAlerts.delete(id)
      expect(gone).toEqual({ id, object: 'organization.spend_alert.deleted', deleted: true })
    }
    const gone: OpenAI.Admin.Organization.Projects.ProjectSpendAlertDeleted = await admin.projects.spendAlerts.delete(own.id, { project_id: projectId })
    expect(gone).toEqual({ id: own.id, object: 'project.spend_alert.deleted', deleted: true })
    const missing = await failure(admin.spendAlerts.retrieve(created.id))
    expect(missing.status).toBe(404)
    expect(missing.error).toMatchObject({ type: 'invalid_request_error', param: 'alert_id' })
    const types = (await admin.auditLogs.list({ event_types: ['spend_alert.created', 'spend_alert.updated', 'spend_alert.deleted'] as never })).data.map((e) => e.type)
    expect(types.sort()).toEqual(['spend_alert.created', 'spend_alert.created', 'spend_alert.created', 'spend_alert.deleted', 'spend_alert.deleted', 'spend_alert.deleted', 'spend_alert.updated'])
  })

  it('records an alert crossed once in the month', async () => {
    const triggered = async () => (await admin.auditLogs.list({ event_types: ['spend_alert.triggered'] as never })).data
    expect(await triggered()).toEqual([])
    // the month's spend is already above 1 cent: the alert fires as soon as it exists
    const alert = await admin.projects.spendAlerts.create(projectId, { threshold_amount: 1, currency: 'USD', interval: 'month', notification_channel: channel })
    await chat(client)
    await admin.projects.spendLimit.update(projectId, { threshold_amount: 1_000_000_000, currency: 'USD', interval: 'month' })
    await admin.projects.spendLimit.retrieve(projectId)
    const events = await triggered()
    expect(events).toHaveLength(1)
    expect(events[0].project).toEqual({ id: projectId, name: expect.any(String) })
    expect((events[0] as unknown as Record<string, { id: string; threshold_amount: number }>)['spend_alert.triggered']).toMatchObject({ id: alert.id, threshold_amount: 1 })
    // another node, reading the same month, does not record it again
    const node = new SpendTracker(t.ctx.storage, t.ctx.config.pricing)
    await node.start()
    node.stop()
    await t.ctx.services.limits.spend.reload()
    expect(await triggered()).toHaveLength(1)
    await admin.projects.spendLimit.delete(projectId)
  })
})
