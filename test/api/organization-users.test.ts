import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, newProjectKey, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
})
afterAll(async () => t.close())

/** A user through the real path: invite, then accept; returns the user and their admin key. */
async function join(
  email: string,
  role: 'owner' | 'reader' = 'reader',
  projects?: { id: string; role: 'owner' | 'member' }[],
) {
  const invite = (await admin.admin.organization.invites.create({ email, role, projects })) as any
  const accepted = await raw(t, 'POST', `/organization/invites/${invite.id}/accept`, undefined, {
    token: invite.accept_token,
  })
  expect(accepted.status).toBe(200)
  return { user: accepted.body.user, key: accepted.body.admin_api_key.value as string }
}

describe('users', () => {
  it('the bootstrap owner is a user; list, retrieve in the spec shape', async () => {
    const list = await admin.admin.organization.users.list()
    const owner = list.data.find((u) => u.email === 'owner@localhost')!
    expect(owner).toEqual({
      object: 'organization.user',
      id: expect.stringMatching(/^user-/),
      name: 'Owner',
      email: 'owner@localhost',
      role: 'owner',
      added_at: expect.any(Number),
    })
    expect(await admin.admin.organization.users.retrieve(owner.id)).toEqual(owner)
    const missing = await admin.admin.organization.users.retrieve('user-nope').catch((e) => e)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
    expect(missing.error.message).toBe("No user found with id 'user-nope'.")
  })

  it('filters by emails (any case) and pages', async () => {
    const a = await join('Ann@Example.com')
    const b = await join('bob@example.com')
    await join('cy@example.com')
    const byEmail = await admin.admin.organization.users.list({
      emails: ['ann@example.com', 'BOB@example.com'],
    })
    expect(byEmail.data.map((u) => u.id).sort()).toEqual([a.user.id, b.user.id].sort())
    expect(
      (await admin.admin.organization.users.list({ emails: ['nobody@example.com'] })).data,
    ).toEqual([])
    const single = await raw(t, 'GET', '/organization/users?emails=ann@example.com', ADMIN_KEY)
    expect(single.body.data.map((u: any) => u.email)).toEqual(['ann@example.com'])
    const page = await admin.admin.organization.users.list({ limit: 2 })
    expect(page.data).toHaveLength(2)
    expect(page.has_more).toBe(true)
    const all = []
    for await (const u of admin.admin.organization.users.list({ limit: 1 })) all.push(u.id)
    expect(all).toEqual([...new Set(all)].sort())
    expect(all.length).toBeGreaterThanOrEqual(4)
  })

  it("a reader's admin key reads but cannot change anything (401 missing scope)", async () => {
    const reader = await join('reader@example.com', 'reader')
    const readerAdmin = adminClient(t, reader.key)
    expect((await readerAdmin.admin.organization.users.list()).data.length).toBeGreaterThan(0)
    expect((await readerAdmin.admin.organization.projects.list()).data.length).toBeGreaterThan(0)
    for (const call of [
      () => readerAdmin.admin.organization.projects.create({ name: 'nope' }),
      () => readerAdmin.admin.organization.users.update(reader.user.id, { role: 'owner' }),
      () =>
        readerAdmin.admin.organization.invites.create({ email: 'x@example.com', role: 'reader' }),
      () => readerAdmin.admin.organization.adminAPIKeys.create({ name: 'x' }),
      () => readerAdmin.admin.organization.users.delete(reader.user.id),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
      expect(error.error).toEqual({
        message:
          "You have insufficient permissions for this operation. Missing scopes: api.management.write. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      })
    }
  })

  it('modify role: promoting a reader lets their key write at once; the last owner stays', async () => {
    const user = await join('promoted@example.com', 'reader')
    const theirs = adminClient(t, user.key)
    expect(
      await theirs.admin.organization.projects.create({ name: 'x' }).catch((e) => e.status),
    ).toBe(401)
    const updated = await admin.admin.organization.users.update(user.user.id, { role: 'owner' })
    expect(updated).toEqual({ ...user.user, role: 'owner' })
    expect((await theirs.admin.organization.projects.create({ name: 'by promoted' })).name).toBe(
      'by promoted',
    )
    // demoting back takes effect at once too
    await admin.admin.organization.users.update(user.user.id, { role: 'reader' })
    expect(
      await theirs.admin.organization.projects.create({ name: 'x' }).catch((e) => e.status),
    ).toBe(401)

    const bad = await admin.admin.organization.users
      .update(user.user.id, { role: 'member' as any })
      .catch((e) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bad.error.param).toBe('role')
  })

  it('the last owner cannot be demoted or deleted', async () => {
    const owners = (await admin.admin.organization.users.list({ limit: 100 })).data.filter(
      (u) => u.role === 'owner',
    )
    expect(owners.map((u) => u.email)).toEqual(['owner@localhost'])
    for (const call of [
      () => admin.admin.organization.users.update(owners[0].id, { role: 'reader' }),
      () => admin.admin.organization.users.delete(owners[0].id),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error.message).toBe('The organization must keep at least one owner.')
    }
  })

  it('delete removes the user, their memberships and their keys at once', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Leaving' })
    const user = await join('leaving@example.com', 'owner', [{ id: project.id, role: 'member' }])
    const theirAdmin = adminClient(t, user.key)
    await theirAdmin.admin.organization.users.list()
    const projectKey = await t.ctx.services.admin.projectKeys.create(
      { type: 'session', user: { id: user.user.id, email: user.user.email } },
      t.ctx.organization.id,
      project.id,
      { name: 'theirs', ownerUserId: user.user.id },
    )
    await t.client(projectKey.secret).models.list()
    expect(await admin.admin.organization.users.delete(user.user.id)).toEqual({
      object: 'organization.user.deleted',
      id: user.user.id,
      deleted: true,
    })
    expect(await admin.admin.organization.users.retrieve(user.user.id).catch((e) => e.status)).toBe(
      404,
    )
    expect(
      (await admin.admin.organization.projects.users.list(project.id)).data.map((u) => u.id),
    ).not.toContain(user.user.id)
    expect(await theirAdmin.admin.organization.users.list().catch((e) => e.status)).toBe(401)
    expect(
      await t
        .client(projectKey.secret)
        .models.list()
        .catch((e) => e.status),
    ).toBe(401)
  })

  it('project keys cannot reach users (401, missing api.management.read)', async () => {
    const key = await newProjectKey(t, t.ctx.bootstrap.created!.project.id)
    const response = await raw(t, 'GET', '/organization/users', key)
    expect(response.status).toBe(401)
    expect(response.body.error.message).toContain('Missing scopes: api.management.read.')
  })
})
