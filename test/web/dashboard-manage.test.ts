import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient } from '../helpers/admin.js'
import { redirect, signIn, type DashboardSession } from '../helpers/dashboard.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Every change the dashboard makes goes through the Administration API's services: the API then
// shows it, and the audit log holds the same entry an API call would have written.

let t: TestApp
let dash: DashboardSession
let admin: ReturnType<typeof adminClient>['admin']

beforeAll(async () => {
  t = await createTestApp()
  dash = await signIn(t)
  admin = adminClient(t).admin
})
afterAll(async () => t.close())

async function audit(type: string) {
  return ((await admin.organization.auditLogs.list({ event_types: [type as any] })).data as any[])
}

/** An audit entry without what differs between two equal changes (ids, times, names). */
function shape(entry: any) {
  const { id, effective_at, ...rest } = entry
  return JSON.parse(JSON.stringify(rest).replace(/(proj|key|svc_acct|user|invite)[-_][A-Za-z0-9]+/g, '<$1>').replace(/"name":"[^"]*"/g, '"name":"<n>"').replace(/"(\w+_at)":\d+/g, '"$1":0'))
}

async function newProject(name: string): Promise<string> {
  const response = await dash.post('/dashboard/projects', { name })
  expect(response.status).toBe(303)
  const { to, notice } = redirect(response)
  expect(notice).toContain(name)
  return to.split('/').pop()!
}

describe('dashboard management, checked through the API', () => {
  it('creates and archives projects, audited as the API audits them', async () => {
    const id = await newProject('Dashboard project')
    const project = await admin.organization.projects.retrieve(id)
    expect(project).toMatchObject({ name: 'Dashboard project', status: 'active' })
    await admin.organization.projects.create({ name: 'Dashboard project' })
    const [byApi, byDashboard] = await audit('project.created')
    expect(byDashboard['project.created'].id).toBe(id)
    expect(shape(byDashboard)).toEqual(shape(byApi))

    const archived = await dash.post(`/dashboard/projects/${id}/archive`)
    expect(redirect(archived).notice).toContain('archived')
    expect((await admin.organization.projects.retrieve(id)).status).toBe('archived')
    const [entry] = await audit('project.archived')
    expect(entry['project.archived'].id).toBe(id)
    expect(entry.actor.api_key.id).toMatch(/^key_/)
  })

  it('creates a key (its secret shown once), restricts it and revokes it', async () => {
    const projectId = await newProject('Keys project')
    const created = await dash.post(`/dashboard/projects/${projectId}/keys`, { name: 'ci key', permissions: 'models=read,chat=write' })
    expect(created.status).toBe(201)
    const html = await created.text()
    const secret = /id="new-secret">(sk-proj-[^<]+)</.exec(html)![1]
    // the secret works, and only for what it was given
    const client = t.client(secret)
    expect((await client.models.list()).data.length).toBeGreaterThan(0)
    await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] })
    await expect(client.embeddings.create({ model: 'test-embed', input: 'x' })).rejects.toMatchObject({ status: 401 })
    // the page never shows it again
    expect(await (await dash.get(`/dashboard/projects/${projectId}`)).text()).not.toContain(secret)

    const keys = (await admin.organization.projects.apiKeys.list(projectId)).data
    expect(keys.map((k) => k.name)).toEqual(['ci key'])
    const keyId = keys[0].id
    const [createdEntry] = await audit('api_key.created')
    expect(createdEntry['api_key.created']).toMatchObject({ id: keyId, data: { scopes: ['api.model.read', 'api.chat.write'] } })
    expect(createdEntry.project.id).toBe(projectId)

    const restricted = await dash.post(`/dashboard/projects/${projectId}/keys/${keyId}/permissions`, { permissions: 'read_only' })
    expect(redirect(restricted).notice).toContain('saved')
    await expect(client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 })
    const [updated] = await audit('api_key.updated')
    expect(updated['api_key.updated']).toMatchObject({ id: keyId, after: { permissions: { mode: 'read_only' } } })

    const bad = await dash.post(`/dashboard/projects/${projectId}/keys/${keyId}/permissions`, { permissions: 'teleport=write' })
    expect(redirect(bad).error).toContain("unknown resource 'teleport'")

    const revoked = await dash.post(`/dashboard/projects/${projectId}/keys/${keyId}/revoke`)
    expect(redirect(revoked).notice).toContain('revoked')
    expect((await admin.organization.projects.apiKeys.list(projectId)).data).toEqual([])
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 })
    const [deleted] = await audit('api_key.deleted')
    expect(deleted['api_key.deleted'].id).toBe(keyId)
  })

  it('creates a service account with its key shown once', async () => {
    const projectId = await newProject('Robots')
    const response = await dash.post(`/dashboard/projects/${projectId}/service-accounts`, { name: 'ci-bot' })
    expect(response.status).toBe(201)
    const secret = /id="new-secret">(sk-proj-[^<]+)</.exec(await response.text())![1]
    expect((await t.client(secret).models.list()).data.length).toBeGreaterThan(0)
    const accounts = (await admin.organization.projects.serviceAccounts.list(projectId)).data
    expect(accounts.map((a) => a.name)).toEqual(['ci-bot'])
    await admin.organization.projects.serviceAccounts.create(projectId, { name: 'api-bot' })
    const [byApi, byDashboard] = await audit('service_account.created')
    expect(shape(byDashboard)).toEqual(shape(byApi))
  })

  it('sets a project rate limit per model, changing only the fields edited', async () => {
    const projectId = await newProject('Limited')
    const response = await dash.post(`/dashboard/projects/${projectId}/rate-limits/rl-test-echo`, {
      max_requests_per_1_minute: '7',
      max_tokens_per_1_minute: '',
    })
    expect(redirect(response).notice).toContain('test-echo')
    const limits = (await admin.organization.projects.rateLimits.listRateLimits(projectId)).data
    expect(limits.find((l) => l.model === 'test-echo')?.max_requests_per_1_minute).toBe(7)
    const [entry] = await audit('rate_limit.updated')
    expect(entry['rate_limit.updated']).toMatchObject({ id: 'rl-test-echo', changes_requested: { max_requests_per_1_minute: 7 } })
    expect(Object.keys(entry['rate_limit.updated'].changes_requested)).toEqual(['max_requests_per_1_minute'])
    const bad = await dash.post(`/dashboard/projects/${projectId}/rate-limits/rl-test-echo`, { max_requests_per_1_minute: '-3' })
    expect(redirect(bad).error).toMatch(/max_requests_per_1_minute/)
  })

  it("sets a project's model permissions", async () => {
    const projectId = await newProject('Echo only')
    const response = await dash.post(`/dashboard/projects/${projectId}/model-permissions`, { mode: 'allow_list', model_ids: ['test-echo', 'test-embed'] })
    expect(redirect(response).notice).toContain('saved')
    expect(await admin.organization.projects.modelPermissions.retrieve(projectId)).toMatchObject({ mode: 'allow_list', model_ids: ['test-echo', 'test-embed'] })
    const [entry] = await audit('project.updated')
    expect(entry['project.updated'].changes_requested.model_permissions).toEqual({ mode: 'allow_list', model_ids: ['test-echo', 'test-embed'] })
    await dash.post(`/dashboard/projects/${projectId}/model-permissions`, { mode: 'none' })
    expect(await admin.organization.projects.modelPermissions.retrieve(projectId)).toMatchObject({ mode: 'deny_list', model_ids: [] })
  })

  it('invites a user (token shown once) and changes a role, refusing to demote the last owner', async () => {
    const response = await dash.post('/dashboard/invites', { email: 'new.person@example.com', role: 'reader' })
    expect(response.status).toBe(201)
    const token = /id="invite-token">(inv_[^<]+)</.exec(await response.text())![1]
    const invite = (await admin.organization.invites.list()).data.find((i) => i.email === 'new.person@example.com')!
    expect(invite.role).toBe('reader')
    const [sent] = await audit('invite.sent')
    expect(sent['invite.sent']).toMatchObject({ id: invite.id, data: { email: 'new.person@example.com', role: 'reader' } })
    expect(JSON.stringify(sent)).not.toContain(token)

    // the invitee accepts with the token, then becomes an owner from the dashboard
    const accepted = await t.fetch(`http://plinth.test/v1/organization/invites/${invite.id}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    })
    expect(accepted.status).toBe(200)
    const user = (await admin.organization.users.list()).data.find((u) => u.email === 'new.person@example.com')!
    const promoted = await dash.post(`/dashboard/users/${user.id}/role`, { role: 'owner' })
    expect(redirect(promoted).notice).toBe('new.person@example.com is now owner.')
    expect((await admin.organization.users.retrieve(user.id)).role).toBe('owner')
    const [updated] = await audit('user.updated')
    expect(updated['user.updated']).toMatchObject({ id: user.id, changes_requested: { role: 'owner' } })

    await dash.post(`/dashboard/users/${user.id}/role`, { role: 'reader' })
    const owner = (await admin.organization.users.list()).data.find((u) => u.role === 'owner')!
    const lastOwner = await dash.post(`/dashboard/users/${owner.id}/role`, { role: 'reader' })
    expect(redirect(lastOwner).error).toMatch(/owner/)
    expect((await admin.organization.users.retrieve(owner.id)).role).toBe('owner')

    const duplicate = await dash.post('/dashboard/invites', { email: 'new.person@example.com', role: 'reader' })
    expect(redirect(duplicate).error).toBeTruthy()
  })
})
