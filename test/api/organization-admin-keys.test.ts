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

describe('admin API keys', () => {
  it("create shows the secret once; retrieve and list show it redacted, owned by the caller's user", async () => {
    const created = await admin.admin.organization.adminAPIKeys.create({ name: 'Deploys' })
    expect(created).toEqual({
      object: 'organization.admin_api_key',
      id: expect.stringMatching(/^key_/),
      name: 'Deploys',
      redacted_value: expect.stringMatching(/^sk-admin-[\w-]{3}\.\.\.[\w-]{4}$/),
      created_at: expect.any(Number),
      last_used_at: null,
      owner: {
        type: 'user',
        object: 'organization.user',
        id: expect.stringMatching(/^user-/),
        name: 'Owner',
        created_at: expect.any(Number),
        role: 'owner',
      },
      value: expect.stringMatching(/^sk-admin-/),
    })
    const { value, ...stored } = created
    expect(await admin.admin.organization.adminAPIKeys.retrieve(created.id)).toEqual(stored)
    const listed = await admin.admin.organization.adminAPIKeys.list()
    expect(listed.data).toContainEqual(stored)
    expect(JSON.stringify(listed)).not.toContain(value!)
    // the new key works, and is then seen as used
    await adminClient(t, value!).admin.organization.users.list()
    // last_used_at is written off the request path
    await vi.waitFor(async () =>
      expect(
        (await admin.admin.organization.adminAPIKeys.retrieve(created.id)).last_used_at,
      ).toEqual(expect.any(Number)),
    )
  })

  it('list: asc by default, desc on request, pages with after', async () => {
    for (const name of ['k1', 'k2', 'k3'])
      await admin.admin.organization.adminAPIKeys.create({ name })
    const asc = (await admin.admin.organization.adminAPIKeys.list({ limit: 100 })).data.map(
      (k) => k.id,
    )
    expect(asc).toEqual([...asc].sort())
    const desc = (
      await admin.admin.organization.adminAPIKeys.list({ limit: 100, order: 'desc' })
    ).data.map((k) => k.id)
    expect(desc).toEqual([...asc].reverse())
    const first = await admin.admin.organization.adminAPIKeys.list({ limit: 2 })
    expect([first.data.length, first.has_more]).toEqual([2, true])
    const paged = []
    for await (const k of admin.admin.organization.adminAPIKeys.list({ limit: 2 })) paged.push(k.id)
    expect(paged).toEqual(asc)
    const descPage = await raw(
      t,
      'GET',
      `/organization/admin_api_keys?order=desc&limit=1&after=${desc[0]}`,
      ADMIN_KEY,
    )
    expect(descPage.body.data.map((k: any) => k.id)).toEqual([desc[1]])
  })

  it('delete revokes at once; project keys are not admin keys', async () => {
    const created = await admin.admin.organization.adminAPIKeys.create({ name: 'temporary' })
    const theirs = adminClient(t, created.value!)
    await theirs.admin.organization.projects.list()
    expect(await admin.admin.organization.adminAPIKeys.delete(created.id)).toEqual({
      object: 'organization.admin_api_key.deleted',
      id: created.id,
      deleted: true,
    })
    expect(await theirs.admin.organization.projects.list().catch((e) => e.status)).toBe(401)
    expect(
      await admin.admin.organization.adminAPIKeys.retrieve(created.id).catch((e) => e),
    ).toBeInstanceOf(OpenAI.NotFoundError)
    const projectKeys = await admin.admin.organization.projects.apiKeys.list(
      t.ctx.bootstrap.created!.project.id,
    )
    const error = await admin.admin.organization.adminAPIKeys
      .retrieve(projectKeys.data[0].id)
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error.message).toBe(`No admin API key found with id '${projectKeys.data[0].id}'.`)
  })

  it('a bad body is 400', async () => {
    const missing = await raw(t, 'POST', '/organization/admin_api_keys', ADMIN_KEY, {})
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe("Missing required parameter: 'name'.")
  })
})
