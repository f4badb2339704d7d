import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { adminClient, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
let adminKeyId: string
let ownerId: string
let project: { id: string }
let account: { id: string; api_key: { id: string } | null }
let invitee: { id: string; email: string }
let inviteeKey: { id: string; value: string }
let inviteId: string
// far ahead of the real clock, so bootstrap's entries (made at real time) come before all of these
const T0 = 2_000_000_000

/** Every action at a second of its own, so effective_at filters have something to tell apart. */
async function at<T>(second: number, fn: () => Promise<T>): Promise<T> {
  vi.setSystemTime((T0 + second) * 1000)
  return fn()
}

beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
  adminKeyId = (await admin.admin.organization.adminAPIKeys.list()).data.find(
    (k) => k.name === 'Bootstrap admin key',
  )!.id
  ownerId = (await admin.admin.organization.users.list()).data[0].id
  vi.useFakeTimers({ toFake: ['Date'] })
  try {
    project = await at(10, () => admin.admin.organization.projects.create({ name: 'Audited' }))
    await at(20, () => admin.admin.organization.projects.update(project.id, { name: 'Audited 2' }))
    account = await at(30, () =>
      admin.admin.organization.projects.serviceAccounts.create(project.id, { name: 'bot' }),
    )
    const invite = (await at(40, () =>
      admin.admin.organization.invites.create({ email: 'auditor@example.com', role: 'owner' }),
    )) as any
    inviteId = invite.id
    const accepted = await at(50, () =>
      raw(t, 'POST', `/organization/invites/${invite.id}/accept`, undefined, {
        token: invite.accept_token,
      }),
    )
    invitee = accepted.body.user
    inviteeKey = accepted.body.admin_api_key
    await at(60, () =>
      adminClient(t, inviteeKey.value).admin.organization.projects.archive(project.id),
    )
  } finally {
    vi.useRealTimers()
  }
})
afterAll(async () => t.close())

const list = (query: OpenAI.Admin.Organization.AuditLogListParams = {}) =>
  admin.admin.organization.auditLogs.list({ limit: 100, ...query })
const types = async (query: OpenAI.Admin.Organization.AuditLogListParams = {}) =>
  (await list(query)).data.map((e) => e.type)

describe('audit logs', () => {
  it('records every admin change and key event, newest first, with actor, project and details', async () => {
    expect(await types()).toEqual([
      'project.archived',
      'api_key.created',
      // an invite without projects joins the default project
      'user.added',
      'invite.accepted',
      'invite.sent',
      'api_key.created',
      'service_account.created',
      'project.updated',
      'project.created',
      // bootstrap's two keys
      'api_key.created',
      'api_key.created',
    ])
    const [archived, , , , , , , updated, created] = (await list()).data as any[]
    expect(created).toEqual({
      id: expect.stringMatching(/^audit_log-/),
      type: 'project.created',
      effective_at: T0 + 10,
      project: { id: project.id, name: 'Audited' },
      actor: {
        type: 'api_key',
        api_key: { id: adminKeyId, type: 'user', user: { id: ownerId, email: 'owner@localhost' } },
      },
      'project.created': {
        id: project.id,
        data: { name: 'Audited', title: 'Audited' },
        after: expect.objectContaining({ id: project.id, name: 'Audited', status: 'active' }),
      },
    })
    expect(updated['project.updated']).toEqual({
      id: project.id,
      changes_requested: { title: 'Audited 2' },
      before: expect.objectContaining({ name: 'Audited' }),
      after: expect.objectContaining({ name: 'Audited 2' }),
    })
    // done by the invitee's own key: the actor is that user
    expect(archived.actor).toEqual({
      type: 'api_key',
      api_key: {
        id: inviteeKey.id,
        type: 'user',
        user: { id: invitee.id, email: 'auditor@example.com' },
      },
    })
    expect(archived['project.archived']).toMatchObject({
      id: project.id,
      before: { status: 'active' },
      after: { status: 'archived' },
    })
    // accepting has no key: the invitee acted in person
    const accepted = (await list({ event_types: ['invite.accepted'] })).data[0] as any
    expect(accepted.actor).toEqual({
      type: 'session',
      session: {
        user: { id: invitee.id, email: 'auditor@example.com' },
        ip_address: expect.any(String),
      },
    })
    const keyCreated = (await list({ event_types: ['api_key.created'], project_ids: [project.id] }))
      .data[0] as any
    expect(keyCreated['api_key.created']).toEqual({
      id: account.api_key!.id,
      data: { scopes: expect.arrayContaining(['api.model.write']) },
    })
    // no secret is ever logged
    expect(JSON.stringify((await list()).data)).not.toMatch(/sk-(proj|admin)-[A-Za-z0-9_-]{20}/)
  })

  it('filters: event_types, project_ids, resource_ids', async () => {
    expect(await types({ event_types: ['project.created', 'project.archived'] })).toEqual([
      'project.archived',
      'project.created',
    ])
    expect(await types({ project_ids: [project.id] })).toEqual([
      'project.archived',
      'api_key.created',
      'service_account.created',
      'project.updated',
      'project.created',
    ])
    expect(await types({ project_ids: ['proj_nope'] })).toEqual([])
    expect(await types({ resource_ids: [project.id] })).toEqual([
      'project.archived',
      'project.updated',
      'project.created',
    ])
    expect(await types({ resource_ids: [inviteId, account.id] })).toEqual([
      'invite.accepted',
      'invite.sent',
      'service_account.created',
    ])
  })

  it('filters: actor_ids (key, user) and actor_emails', async () => {
    expect(await types({ actor_ids: [inviteeKey.id] })).toEqual(['project.archived'])
    expect(await types({ actor_ids: [invitee.id] })).toEqual([
      'project.archived',
      'api_key.created',
      'user.added',
      'invite.accepted',
    ])
    expect(await types({ actor_emails: ['AUDITOR@example.com'] })).toEqual([
      'project.archived',
      'api_key.created',
      'user.added',
      'invite.accepted',
    ])
    expect((await types({ actor_ids: [adminKeyId] })).length).toBe(5)
    expect(
      await types({ actor_emails: ['owner@localhost'], event_types: ['invite.sent'] }),
    ).toEqual(['invite.sent'])
  })

  it('filters: effective_at gt, gte, lt, lte', async () => {
    expect(await types({ effective_at: { gte: T0 + 20, lte: T0 + 30 } })).toEqual([
      'api_key.created',
      'service_account.created',
      'project.updated',
    ])
    expect(await types({ effective_at: { gt: T0 + 20, lt: T0 + 40 } })).toEqual([
      'api_key.created',
      'service_account.created',
    ])
    expect(await types({ effective_at: { gt: T0 + 50 } })).toEqual(['project.archived'])
    expect(await types({ effective_at: { gte: T0, lt: T0 + 11 } })).toEqual(['project.created'])
    expect(await types({ effective_at: { lt: T0 } })).toEqual([
      'api_key.created',
      'api_key.created',
    ])
  })

  it('paginates with after (older) and before (newer), through the SDK and by hand', async () => {
    const everything = (await list()).data.map((e) => e.id)
    const walked = []
    for await (const entry of admin.admin.organization.auditLogs.list({ limit: 3 }))
      walked.push(entry.id)
    expect(walked).toEqual(everything)
    const first = await list({ limit: 3 })
    expect([first.data.length, first.has_more, first.data[0].id, first.last_id]).toEqual([
      3,
      true,
      everything[0],
      everything[2],
    ])
    const second = await list({ limit: 3, after: first.last_id })
    expect(second.data.map((e) => e.id)).toEqual(everything.slice(3, 6))
    const back = await list({ limit: 3, before: second.data[0].id })
    expect(back.data.map((e) => e.id)).toEqual(everything.slice(0, 3))
    expect(back.has_more).toBe(false)
    const backOne = await list({ limit: 1, before: everything[2] })
    expect([backOne.data.map((e) => e.id), backOne.has_more]).toEqual([[everything[1]], true])
    // the query string by hand, as a plain HTTP client sends arrays
    const byHand = await raw(
      t,
      'GET',
      `/organization/audit_logs?event_types[]=project.created&event_types[]=project.updated&effective_at[gte]=${T0}`,
      ADMIN_KEY,
    )
    expect(byHand.body.data.map((e: any) => e.type)).toEqual(['project.updated', 'project.created'])
    const bad = await raw(t, 'GET', '/organization/audit_logs?effective_at[gt]=soon', ADMIN_KEY)
    expect(bad.status).toBe(400)
    expect(bad.body.error.param).toBe('effective_at.gt')
  })

  it('records key and membership removals too', async () => {
    const fresh = await admin.admin.organization.projects.create({ name: 'Removals' })
    const bot = await admin.admin.organization.projects.serviceAccounts.create(fresh.id, {
      name: 'bot',
    })
    await admin.admin.organization.projects.serviceAccounts.delete(bot.id, { project_id: fresh.id })
    await admin.admin.organization.projects.users.update(ownerId, {
      project_id: fresh.id,
      role: 'member',
    })
    await admin.admin.organization.projects.users.delete(ownerId, { project_id: fresh.id })
    expect(await types({ project_ids: [fresh.id] })).toEqual([
      'user.deleted',
      'user.updated',
      'service_account.deleted',
      'api_key.deleted',
      'api_key.created',
      'service_account.created',
      'project.created',
    ])
    const key = await admin.admin.organization.adminAPIKeys.create({ name: 'short-lived' })
    await admin.admin.organization.adminAPIKeys.delete(key.id)
    expect(await types({ resource_ids: [key.id] })).toEqual(['api_key.deleted', 'api_key.created'])
  })
})
