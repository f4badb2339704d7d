import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { adminClient, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
})
afterAll(async () => t.close())

const accept = (id: string, body: unknown) =>
  raw(t, 'POST', `/organization/invites/${id}/accept`, undefined, body)

describe('invites', () => {
  it("create answers the spec's Invite and a one-time accept token; list and retrieve never show the token", async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Invited into' })
    const invite = (await admin.admin.organization.invites.create({
      email: 'New.Person@Example.com',
      role: 'reader',
      projects: [{ id: project.id, role: 'member' }],
    })) as any
    expect(invite).toEqual({
      object: 'organization.invite',
      id: expect.stringMatching(/^invite-/),
      email: 'new.person@example.com',
      role: 'reader',
      status: 'pending',
      invited_at: expect.any(Number),
      expires_at: invite.invited_at + 7 * 24 * 3600,
      accepted_at: null,
      projects: [{ id: project.id, role: 'member' }],
      accept_token: expect.stringMatching(/^inv_/),
    })
    const { accept_token, ...stored } = invite
    expect(await admin.admin.organization.invites.retrieve(invite.id)).toEqual(stored)
    const listed = await admin.admin.organization.invites.list()
    expect(listed.data).toContainEqual(stored)
    expect(JSON.stringify(listed)).not.toContain(accept_token)
  })

  it('without projects, the invitee joins the default project as a member; with [], none', async () => {
    const defaultProject = t.ctx.bootstrap.created!.project.id
    const plain = (await admin.admin.organization.invites.create({
      email: 'plain@example.com',
      role: 'reader',
    })) as any
    expect(plain.projects).toEqual([{ id: defaultProject, role: 'member' }])
    const none = (await admin.admin.organization.invites.create({
      email: 'none@example.com',
      role: 'reader',
      projects: [],
    })) as any
    expect(none.projects).toEqual([])
    const joined = await accept(plain.id, { token: plain.accept_token })
    const member = await admin.admin.organization.projects.users.retrieve(joined.body.user.id, {
      project_id: defaultProject,
    })
    expect(member).toMatchObject({ email: 'plain@example.com', role: 'member' })
    const alone = await accept(none.id, { token: none.accept_token })
    const notMember = await admin.admin.organization.projects.users
      .retrieve(alone.body.user.id, { project_id: defaultProject })
      .catch((e) => e)
    expect(notMember).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it("accepting creates the user in the invite's projects with an admin key of their own", async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Team' })
    const invite = (await admin.admin.organization.invites.create({
      email: 'joiner@example.com',
      role: 'owner',
      projects: [{ id: project.id, role: 'owner' }],
    })) as any
    const accepted = await accept(invite.id, { token: invite.accept_token, name: 'Jo Iner' })
    expect(accepted.status).toBe(200)
    expect(accepted.body).toEqual({
      object: 'organization.invite.acceptance',
      invite: {
        ...invite,
        accept_token: undefined,
        status: 'accepted',
        accepted_at: expect.any(Number),
      },
      user: {
        object: 'organization.user',
        id: expect.stringMatching(/^user-/),
        name: 'Jo Iner',
        email: 'joiner@example.com',
        role: 'owner',
        added_at: expect.any(Number),
      },
      admin_api_key: expect.objectContaining({
        object: 'organization.admin_api_key',
        value: expect.stringMatching(/^sk-admin-/),
        owner: expect.objectContaining({ type: 'user', id: accepted.body.user.id, role: 'owner' }),
      }),
    })
    const user = accepted.body.user
    expect(await admin.admin.organization.users.retrieve(user.id)).toEqual(user)
    expect(
      await admin.admin.organization.projects.users.retrieve(user.id, { project_id: project.id }),
    ).toMatchObject({
      id: user.id,
      role: 'owner',
    })
    const retrieved = await admin.admin.organization.invites.retrieve(invite.id)
    expect(retrieved).toMatchObject({ status: 'accepted', accepted_at: expect.any(Number) })
    // the new key works, as its user
    const theirs = adminClient(t, accepted.body.admin_api_key.value)
    const key = await theirs.admin.organization.adminAPIKeys.retrieve(
      accepted.body.admin_api_key.id,
    )
    expect(key.owner).toMatchObject({ id: user.id, name: 'Jo Iner' })
    // an accepted invite can be accepted no more, nor deleted
    const again = await accept(invite.id, { token: invite.accept_token })
    expect(again.status).toBe(400)
    expect(again.body.error.message).toBe(`Invite ${invite.id} has already been accepted.`)
    const deletion = await admin.admin.organization.invites.delete(invite.id).catch((e) => e)
    expect(deletion).toBeInstanceOf(OpenAI.BadRequestError)
    expect(deletion.error.message).toBe(
      `Invite ${invite.id} has already been accepted and cannot be deleted.`,
    )
  })

  it("a wrong token, or another invite's, is 401; the route needs no API key", async () => {
    const a = (await admin.admin.organization.invites.create({
      email: 'a@example.com',
      role: 'reader',
    })) as any
    const b = (await admin.admin.organization.invites.create({
      email: 'b@example.com',
      role: 'reader',
    })) as any
    for (const [id, token] of [
      [a.id, 'inv_wrong'],
      [a.id, b.accept_token],
      ['invite-nope', a.accept_token],
    ]) {
      const response = await accept(id, { token })
      expect(response.status).toBe(401)
      expect(response.body.error.code).toBe('invalid_invite_token')
    }
    expect((await accept(a.id, {})).body.error.message).toBe("Missing required parameter: 'token'.")
  })

  it('refuses inviting a member, a second pending invite, an unknown or archived project', async () => {
    const first = await admin.admin.organization.invites.create({
      email: 'dup@example.com',
      role: 'reader',
    })
    const pending = await admin.admin.organization.invites
      .create({ email: 'DUP@example.com', role: 'owner' })
      .catch((e) => e)
    expect(pending.status).toBe(400)
    expect(pending.error.message).toBe('An invite for dup@example.com is already pending.')
    const member = await admin.admin.organization.invites
      .create({ email: 'owner@localhost', role: 'reader' })
      .catch((e) => e)
    expect(member.error.message).toBe('owner@localhost is already a member of this organization.')
    const unknown = await admin.admin.organization.invites
      .create({
        email: 'p@example.com',
        role: 'reader',
        projects: [{ id: 'proj_nope', role: 'member' }],
      })
      .catch((e) => e)
    expect(unknown.status).toBe(404)
    const archived = await admin.admin.organization.projects.create({ name: 'gone' })
    await admin.admin.organization.projects.archive(archived.id)
    const toArchived = await admin.admin.organization.invites
      .create({
        email: 'p@example.com',
        role: 'reader',
        projects: [{ id: archived.id, role: 'member' }],
      })
      .catch((e) => e)
    expect(toArchived.status).toBe(400)
    const badRole = await raw(t, 'POST', '/organization/invites', ADMIN_KEY, {
      email: 'r@example.com',
      role: 'member',
    })
    expect(badRole.status).toBe(400)
    expect(badRole.body.error.param).toBe('role')
    for (const email of ['nope', '', 'a b@example.com', '@example.com']) {
      const badEmail = await raw(t, 'POST', '/organization/invites', ADMIN_KEY, {
        email,
        role: 'reader',
      })
      expect(badEmail.body.error).toEqual({
        message: "Invalid 'email': expected an email address, such as user@example.com.",
        type: 'invalid_request_error',
        param: 'email',
        code: 'invalid_value',
      })
    }
    expect((await admin.admin.organization.invites.delete(first.id)).deleted).toBe(true)
  })

  it('delete removes a pending invite, whose token then fails', async () => {
    const invite = (await admin.admin.organization.invites.create({
      email: 'gone@example.com',
      role: 'reader',
    })) as any
    expect(await admin.admin.organization.invites.delete(invite.id)).toEqual({
      object: 'organization.invite.deleted',
      id: invite.id,
      deleted: true,
    })
    expect(await admin.admin.organization.invites.retrieve(invite.id).catch((e) => e.status)).toBe(
      404,
    )
    expect((await accept(invite.id, { token: invite.accept_token })).status).toBe(401)
  })

  it('an invite expires after 7 days: listed as expired, no longer acceptable, and a new one can be sent', async () => {
    const invite = (await admin.admin.organization.invites.create({
      email: 'late@example.com',
      role: 'reader',
    })) as any
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 8 * 24 * 3600 * 1000)
      expect((await admin.admin.organization.invites.retrieve(invite.id)).status).toBe('expired')
      const late = await accept(invite.id, { token: invite.accept_token })
      expect(late.status).toBe(400)
      expect(late.body.error.message).toBe(`Invite ${invite.id} has expired. Ask for a new invite.`)
      const again = await admin.admin.organization.invites.create({
        email: 'late@example.com',
        role: 'reader',
      })
      expect(again.status).toBe('pending')
    } finally {
      vi.useRealTimers()
    }
  })

  it('list pages with after and limit', async () => {
    for (const n of [1, 2, 3])
      await admin.admin.organization.invites.create({
        email: `page${n}@example.com`,
        role: 'reader',
      })
    const first = await admin.admin.organization.invites.list({ limit: 2 })
    expect(first.data).toHaveLength(2)
    expect(first.has_more).toBe(true)
    const second = await admin.admin.organization.invites.list({
      limit: 2,
      after: first.data[1].id,
    })
    expect(second.data[0].id > first.data[1].id).toBe(true)
    const all = []
    for await (const invite of admin.admin.organization.invites.list({ limit: 2 }))
      all.push(invite.id)
    expect(new Set(all).size).toBe(all.length)
  })
})
