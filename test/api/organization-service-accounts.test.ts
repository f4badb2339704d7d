import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, hi } from '../helpers/admin.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
})
afterAll(async () => t.close())

describe('service accounts', () => {
  it('create returns the key once; it works; list and retrieve show no secret', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Robots' })
    const created = await admin.admin.organization.projects.serviceAccounts.create(project.id, {
      name: 'CI bot',
    })
    expect(created).toEqual({
      object: 'organization.project.service_account',
      id: expect.stringMatching(/^svc_acct_/),
      name: 'CI bot',
      role: 'member',
      created_at: expect.any(Number),
      api_key: {
        object: 'organization.project.service_account.api_key',
        value: expect.stringMatching(/^sk-proj-/),
        name: 'Secret Key',
        created_at: expect.any(Number),
        id: expect.stringMatching(/^key_/),
      },
    })
    const { api_key: key0, ...account } = created
    const api_key = key0!
    expect((await t.client(api_key.value).chat.completions.create(hi)).object).toBe(
      'chat.completion',
    )
    expect(
      await admin.admin.organization.projects.serviceAccounts.retrieve(created.id, {
        project_id: project.id,
      }),
    ).toEqual(account)
    const list = await admin.admin.organization.projects.serviceAccounts.list(project.id)
    expect(list.data).toEqual([account])
    expect(JSON.stringify(list)).not.toContain(api_key.value)
    // its key is listed with the account as owner, redacted
    const key = await admin.admin.organization.projects.apiKeys.retrieve(api_key.id, {
      project_id: project.id,
    })
    expect(key).toMatchObject({
      redacted_value: expect.stringMatching(/^sk-proj-[\w-]{3}\.\.\.[\w-]{4}$/),
      owner: { type: 'service_account', service_account: account },
    })
    expect(JSON.stringify(key)).not.toContain(api_key.value)
  })

  it("a service account's key is revoked with the account, not on its own", async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Robots 2' })
    const created = await admin.admin.organization.projects.serviceAccounts.create(project.id, {
      name: 'bot',
    })
    const direct = await admin.admin.organization.projects.apiKeys
      .delete(created.api_key!.id, { project_id: project.id })
      .catch((e) => e)
    expect(direct).toBeInstanceOf(OpenAI.BadRequestError)
    expect(direct.error.message).toBe(
      `API key ${created.api_key!.id} belongs to a service account. Delete the service account to revoke it.`,
    )
    const client = t.client(created.api_key!.value)
    await client.models.list()
    expect(
      await admin.admin.organization.projects.serviceAccounts.delete(created.id, {
        project_id: project.id,
      }),
    ).toEqual({
      object: 'organization.project.service_account.deleted',
      id: created.id,
      deleted: true,
    })
    expect(await client.models.list().catch((e) => e.status)).toBe(401)
    expect(
      await admin.admin.organization.projects.serviceAccounts
        .retrieve(created.id, { project_id: project.id })
        .catch((e) => e.status),
    ).toBe(404)
    // an account is only found in its own project
    const other = await admin.admin.organization.projects.create({ name: 'Other' })
    const mine = await admin.admin.organization.projects.serviceAccounts.create(project.id, {
      name: 'mine',
    })
    expect(
      await admin.admin.organization.projects.serviceAccounts
        .retrieve(mine.id, { project_id: other.id })
        .catch((e) => e.status),
    ).toBe(404)
  })

  it('list pages', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Many' })
    for (const n of [1, 2, 3])
      await admin.admin.organization.projects.serviceAccounts.create(project.id, {
        name: `bot ${n}`,
      })
    const first = await admin.admin.organization.projects.serviceAccounts.list(project.id, {
      limit: 2,
    })
    expect([first.data.length, first.has_more]).toEqual([2, true])
    const all = []
    for await (const a of admin.admin.organization.projects.serviceAccounts.list(project.id, {
      limit: 2,
    }))
      all.push(a.name)
    expect(all).toEqual(['bot 1', 'bot 2', 'bot 3'])
  })
})
