import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
})
afterAll(async () => t.close())

async function newUser(email: string) {
  const invite = (await admin.admin.organization.invites.create({ email, role: 'reader' })) as any
  const accepted = await raw(t, 'POST', `/organization/invites/${invite.id}/accept`, undefined, {
    token: invite.accept_token,
  })
  return accepted.body.user as { id: string; name: string; email: string }
}

describe('project users', () => {
  it('add, retrieve, modify role, list, remove: the spec shapes', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Members' })
    const user = await newUser('member@example.com')
    const added = await admin.admin.organization.projects.users.create(project.id, {
      user_id: user.id,
      role: 'member',
    })
    expect(added).toEqual({
      object: 'organization.project.user',
      id: user.id,
      name: user.name,
      email: 'member@example.com',
      role: 'member',
      added_at: expect.any(Number),
    })
    expect(
      await admin.admin.organization.projects.users.retrieve(user.id, { project_id: project.id }),
    ).toEqual(added)
    const promoted = await admin.admin.organization.projects.users.update(user.id, {
      project_id: project.id,
      role: 'owner',
    })
    expect(promoted).toEqual({ ...added, role: 'owner' })
    const list = await admin.admin.organization.projects.users.list(project.id)
    expect(list.data.map((u) => [u.email, u.role])).toEqual([
      ['owner@localhost', 'owner'],
      ['member@example.com', 'owner'],
    ])
    expect(
      await admin.admin.organization.projects.users.delete(user.id, { project_id: project.id }),
    ).toEqual({
      object: 'organization.project.user.deleted',
      id: user.id,
      deleted: true,
    })
    const gone = await admin.admin.organization.projects.users
      .retrieve(user.id, { project_id: project.id })
      .catch((e) => e)
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError)
    // still a member of the organization
    expect((await admin.admin.organization.users.retrieve(user.id)).id).toBe(user.id)
  })

  it('refuses unknown users, duplicates, bad roles and unknown projects', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Strict' })
    const user = await newUser('strict@example.com')
    const unknown = await admin.admin.organization.projects.users
      .create(project.id, { user_id: 'user-nope', role: 'member' })
      .catch((e) => e)
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError)
    await admin.admin.organization.projects.users.create(project.id, {
      user_id: user.id,
      role: 'member',
    })
    const twice = await admin.admin.organization.projects.users
      .create(project.id, { user_id: user.id, role: 'owner' })
      .catch((e) => e)
    expect(twice).toBeInstanceOf(OpenAI.BadRequestError)
    expect(twice.error).toMatchObject({
      message: `User ${user.id} is already a member of project ${project.id}.`,
      param: 'user_id',
    })
    const badRole = await raw(
      t,
      'POST',
      `/organization/projects/${project.id}/users/${user.id}`,
      ADMIN_KEY,
      { role: 'reader' },
    )
    expect(badRole.status).toBe(400)
    expect(badRole.body.error).toMatchObject({ param: 'role', code: 'invalid_value' })
    const noProject = await admin.admin.organization.projects.users
      .list('proj_nope')
      .catch((e) => e)
    expect(noProject).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('removing a user from a project revokes their keys there, at once', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Revoke' })
    const user = await newUser('revoked@example.com')
    await admin.admin.organization.projects.users.create(project.id, {
      user_id: user.id,
      role: 'member',
    })
    const key = await t.ctx.services.admin.projectKeys.create(
      { type: 'session', user: { id: user.id, email: user.email } },
      t.ctx.organization.id,
      project.id,
      { name: 'mine', ownerUserId: user.id },
    )
    const listed = await admin.admin.organization.projects.apiKeys.retrieve(key.row.id, {
      project_id: project.id,
    })
    expect(listed.owner).toEqual({
      type: 'user',
      user: expect.objectContaining({ id: user.id, role: 'member' }),
    })
    await t.client(key.secret).models.list()
    await admin.admin.organization.projects.users.delete(user.id, { project_id: project.id })
    expect(
      await t
        .client(key.secret)
        .models.list()
        .catch((e) => e.status),
    ).toBe(401)
  })

  it('list pages', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Paged' })
    for (const n of [1, 2, 3]) {
      const user = await newUser(`paged${n}@example.com`)
      await admin.admin.organization.projects.users.create(project.id, {
        user_id: user.id,
        role: 'member',
      })
    }
    const first = await admin.admin.organization.projects.users.list(project.id, { limit: 2 })
    expect(first.data).toHaveLength(2)
    expect(first.has_more).toBe(true)
    const all = []
    for await (const u of admin.admin.organization.projects.users.list(project.id, { limit: 1 }))
      all.push(u.id)
    expect(all).toHaveLength(4)
    expect(new Set(all).size).toBe(4)
  })
})
