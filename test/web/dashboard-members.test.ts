import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient } from '../helpers/admin.js'
import { redirect, signIn, type DashboardSession } from '../helpers/dashboard.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// Project members, service account deletion and invite cancellation from the dashboard: each goes
// through the service the Administration API uses, so the API then shows the change, the audit
// log holds the entry an API call writes, and a refusal carries the API's own message.

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
  return (await admin.organization.auditLogs.list({ event_types: [type as any] })).data as any[]
}

/** An audit entry without what differs between two equal changes (ids, times, names). */
function shape(entry: any) {
  const { id, effective_at, ...rest } = entry
  return JSON.parse(
    JSON.stringify(rest)
      .replace(/(proj|key|svc_acct|user|invite)[-_][A-Za-z0-9]+/g, '<$1>')
      .replace(/"(name|email)":"[^"]*"/g, '"$1":"<n>"')
      .replace(/"(\w+_at)":\d+/g, '"$1":0'),
  )
}

async function newProject(name: string): Promise<string> {
  const { to } = redirect(await dash.post('/dashboard/projects', { name }))
  return to.split('/').pop()!
}

/** A user of the organization, made the way people join: an invite, accepted. */
async function newUser(email: string): Promise<string> {
  const invite = await t.ctx.services.admin.invites.create((await t.ctx.services.keys.authenticate(ADMIN_KEY))!, { email, role: 'reader' })
  const accepted = await t.fetch(`http://plinth.test/v1/organization/invites/${invite.id}/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: invite.accept_token }),
  })
  expect(accepted.status).toBe(200)
  return ((await accepted.json()) as any).user.id
}

/** The API's answer to the same request, for comparing error messages. */
async function api(method: string, path: string, body?: unknown) {
  const response = await t.fetch(`http://plinth.test/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe('project members from the dashboard', () => {
  it('adds an organization user with a role, changes the role and removes them, audited as the API does', async () => {
    const projectId = await newProject('Team project')
    const ana = await newUser('ana@example.com')
    const bo = await newUser('bo@example.com')
    const page = await (await dash.get(`/dashboard/projects/${projectId}`)).text()
    expect(page).toContain(`<option value="${ana}">ana@example.com</option>`)

    const added = await dash.post(`/dashboard/projects/${projectId}/members`, { user_id: ana, role: 'member' })
    expect(redirect(added).notice).toBe('ana@example.com added to the project as member.')
    expect(await admin.organization.projects.users.retrieve(ana, { project_id: projectId })).toMatchObject({ id: ana, role: 'member' })
    await admin.organization.projects.users.create(projectId, { user_id: bo, role: 'member' })
    const [byApi, byDashboard] = await audit('user.added')
    expect(byDashboard['user.added']).toMatchObject({ id: ana, data: { role: 'member' } })
    expect(byDashboard.project.id).toBe(projectId)
    expect(shape(byDashboard)).toEqual(shape(byApi))
    // the page now lists her, and no longer offers her
    const after = await (await dash.get(`/dashboard/projects/${projectId}`)).text()
    expect(after).toContain(`data-member="${ana}"`)
    expect(after).not.toContain(`<option value="${ana}">`)

    // refusals carry the API's message
    const twice = await dash.post(`/dashboard/projects/${projectId}/members`, { user_id: ana, role: 'owner' })
    const apiTwice = await api('POST', `/organization/projects/${projectId}/users`, { user_id: ana, role: 'owner' })
    expect(apiTwice.status).toBe(400)
    expect(redirect(twice).error).toBe(apiTwice.body.error.message)
    const stranger = await dash.post(`/dashboard/projects/${projectId}/members`, { user_id: 'user-nobody', role: 'member' })
    expect(redirect(stranger).error).toBe((await api('POST', `/organization/projects/${projectId}/users`, { user_id: 'user-nobody', role: 'member' })).body.error.message)
    const badRole = await dash.post(`/dashboard/projects/${projectId}/members`, { user_id: bo, role: 'boss' })
    expect(redirect(badRole).error).toBe((await api('POST', `/organization/projects/${projectId}/users`, { user_id: bo, role: 'boss' })).body.error.message)

    const promoted = await dash.post(`/dashboard/projects/${projectId}/members/${ana}/role`, { role: 'owner' })
    expect(redirect(promoted).notice).toBe('ana@example.com is now owner of the project.')
    expect((await admin.organization.projects.users.retrieve(ana, { project_id: projectId })).role).toBe('owner')
    await admin.organization.projects.users.update(bo, { project_id: projectId, role: 'owner' })
    const [updatedByApi, updated] = await audit('user.updated')
    expect(updated['user.updated']).toMatchObject({ id: ana, changes_requested: { role: 'owner' } })
    expect(shape(updated)).toEqual(shape(updatedByApi))

    // a member's keys in the project go with them
    const key = await t.ctx.services.keys.create({ orgId: t.ctx.organization.id, projectId, name: 'ana key', ownerType: 'user', ownerId: ana })
    expect((await t.client(key.secret).models.list()).data.length).toBeGreaterThan(0)
    const removed = await dash.post(`/dashboard/projects/${projectId}/members/${ana}/remove`)
    expect(redirect(removed).notice).toContain(`User ${ana} removed`)
    const members = (await admin.organization.projects.users.list(projectId)).data.map((u) => u.id)
    expect(members).not.toContain(ana)
    expect(members).toContain(bo)
    await expect(t.client(key.secret).models.list()).rejects.toMatchObject({ status: 401 })
    await admin.organization.projects.users.delete(bo, { project_id: projectId })
    const [deletedByApi, deleted] = await audit('user.deleted')
    expect(deleted['user.deleted'].id).toBe(ana)
    expect(shape(deleted)).toEqual(shape(deletedByApi))
    expect((await audit('api_key.deleted'))[0]['api_key.deleted'].id).toBe(key.row.id)
    const gone = await dash.post(`/dashboard/projects/${projectId}/members/${ana}/remove`)
    expect(redirect(gone).error).toBe((await api('DELETE', `/organization/projects/${projectId}/users/${ana}`)).body.error.message)
  })

  it('deletes a service account: its key stops working, as the API does it', async () => {
    const projectId = await newProject('Bots')
    const created = await dash.post(`/dashboard/projects/${projectId}/service-accounts`, { name: 'doomed-bot' })
    const secret = /id="new-secret">(sk-proj-[^<]+)</.exec(await created.text())![1]
    const [account] = (await admin.organization.projects.serviceAccounts.list(projectId)).data
    const keyId = (await admin.organization.projects.apiKeys.list(projectId)).data[0].id
    await expect((await dash.get(`/dashboard/projects/${projectId}`)).text()).resolves.toContain(`/service-accounts/${account.id}/delete`)

    const deleted = await dash.post(`/dashboard/projects/${projectId}/service-accounts/${account.id}/delete`)
    expect(redirect(deleted).notice).toBe(`Service account ${account.id} deleted; its key no longer works.`)
    expect((await admin.organization.projects.serviceAccounts.list(projectId)).data).toEqual([])
    expect((await admin.organization.projects.apiKeys.list(projectId)).data).toEqual([])
    await expect(t.client(secret).models.list()).rejects.toMatchObject({ status: 401 })
    const [entry] = await audit('service_account.deleted')
    expect(entry['service_account.deleted']).toMatchObject({ id: account.id, before: { name: 'doomed-bot' } })
    expect((await audit('api_key.deleted'))[0]['api_key.deleted'].id).toBe(keyId)

    // the API's deletion writes the same entries
    const other = await admin.organization.projects.serviceAccounts.create(projectId, { name: 'api-bot' })
    await admin.organization.projects.serviceAccounts.delete(other.id, { project_id: projectId })
    const [byApi, byDashboard] = await audit('service_account.deleted')
    expect(shape(byDashboard)).toEqual(shape(byApi))

    const again = await dash.post(`/dashboard/projects/${projectId}/service-accounts/${account.id}/delete`)
    expect(redirect(again).error).toBe((await api('DELETE', `/organization/projects/${projectId}/service_accounts/${account.id}`)).body.error.message)
  })

  it('cancels a pending invite, and refuses an accepted one with the API message', async () => {
    await dash.post('/dashboard/invites', { email: 'maybe@example.com', role: 'reader' })
    const invite = (await admin.organization.invites.list()).data.find((i) => i.email === 'maybe@example.com')!
    const cancelled = await dash.post(`/dashboard/invites/${invite.id}/delete`)
    expect(redirect(cancelled).notice).toBe(`Invite ${invite.id} cancelled; its token no longer works.`)
    expect((await admin.organization.invites.list()).data.map((i) => i.id)).not.toContain(invite.id)
    const [entry] = await audit('invite.deleted')
    expect(entry['invite.deleted']).toMatchObject({ id: invite.id, before: { email: 'maybe@example.com', status: 'pending' } })
    const byApi = await admin.organization.invites.create({ email: 'other@example.com', role: 'reader' })
    await admin.organization.invites.delete(byApi.id)
    const [apiEntry, dashEntry] = await audit('invite.deleted')
    expect(shape(dashEntry)).toEqual(shape(apiEntry))

    await newUser('joined@example.com')
    const accepted = (await admin.organization.invites.list()).data.find((i) => i.email === 'joined@example.com')!
    expect(accepted.status).toBe('accepted')
    const users = await (await dash.get('/dashboard/users')).text()
    expect(users).not.toContain(`/dashboard/invites/${accepted.id}/delete`)
    const refused = await dash.post(`/dashboard/invites/${accepted.id}/delete`)
    const apiRefused = await api('DELETE', `/organization/invites/${accepted.id}`)
    expect(apiRefused.status).toBe(400)
    expect(redirect(refused).error).toBe(apiRefused.body.error.message)
    expect(redirect(refused).error).toBe(`Invite ${accepted.id} has already been accepted and cannot be deleted.`)
    expect((await admin.organization.invites.list()).data.map((i) => i.id)).toContain(accepted.id)
  })

  it('refuses each new form without its CSRF token, or with a wrong one, and changes nothing', async () => {
    const projectId = await newProject('Guarded')
    const user = await newUser('guarded@example.com')
    const account = await admin.organization.projects.serviceAccounts.create(projectId, { name: 'kept-bot' })
    await admin.organization.projects.users.create(projectId, { user_id: user, role: 'member' })
    const pending = await admin.organization.invites.create({ email: 'pending@example.com', role: 'reader' })
    const posts: [string, Record<string, string>][] = [
      [`/dashboard/projects/${projectId}/members`, { user_id: user, role: 'owner' }],
      [`/dashboard/projects/${projectId}/members/${user}/role`, { role: 'owner' }],
      [`/dashboard/projects/${projectId}/members/${user}/remove`, {}],
      [`/dashboard/projects/${projectId}/service-accounts/${account.id}/delete`, {}],
      [`/dashboard/invites/${pending.id}/delete`, {}],
      [`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'on' }],
    ]
    for (const [path, fields] of posts) {
      for (const csrf of ['', 'x'.repeat(dash.csrf.length)]) {
        const response = await dash.post(path, { ...fields, _csrf: csrf })
        expect(response.status, path).toBe(403)
        expect(await response.text()).toContain('CSRF')
      }
      const foreign = await dash.post(path, fields, { origin: 'https://evil.example' })
      expect(foreign.status, path).toBe(403)
    }
    expect((await admin.organization.projects.users.retrieve(user, { project_id: projectId })).role).toBe('member')
    expect((await admin.organization.projects.serviceAccounts.list(projectId)).data.map((a) => a.id)).toEqual([account.id])
    expect((await admin.organization.invites.list()).data.map((i) => i.id)).toContain(pending.id)
    expect(await t.ctx.services.admin.projects.requestLogBodies((await t.ctx.services.keys.authenticate(ADMIN_KEY))!, projectId)).toBe(false)
  })
})

describe('a reader in the dashboard', () => {
  it('reads every page but changes nothing, as the API lets a reader key only read', async () => {
    const invite = await t.ctx.services.admin.invites.create((await t.ctx.services.keys.authenticate(ADMIN_KEY))!, { email: 'looker@example.com', role: 'reader' })
    const accepted = await t.fetch(`http://plinth.test/v1/organization/invites/${invite.id}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: invite.accept_token }),
    })
    const readerKey = ((await accepted.json()) as any).admin_api_key.value as string
    // the API refuses the reader's change
    const viaApi = await t.fetch('http://plinth.test/v1/organization/projects', {
      method: 'POST',
      headers: { authorization: `Bearer ${readerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Reader project' }),
    })
    expect(viaApi.status).toBe(401)
    const reader = await signIn(t, readerKey)
    const projectId = (await admin.organization.projects.list()).data[0].id
    expect((await reader.get(`/dashboard/projects/${projectId}`)).status).toBe(200)
    for (const [path, fields] of [
      ['/dashboard/projects', { name: 'Reader project' }],
      [`/dashboard/projects/${projectId}/request-log-bodies`, { keep: 'on' }],
      [`/dashboard/projects/${projectId}/service-accounts`, { name: 'reader-bot' }],
      ['/dashboard/playground/stream', { project: projectId, model: 'test-echo', messages: '[]', prompt: 'hi' }],
    ] as const) {
      const response = await reader.post(path, fields)
      expect(response.status, path).toBe(403)
      expect(await response.text()).toContain('reader')
    }
    expect((await admin.organization.projects.list()).data.map((p) => p.name)).not.toContain('Reader project')
    expect((await admin.organization.projects.serviceAccounts.list(projectId)).data.map((a) => a.name)).not.toContain('reader-bot')
  })
})
