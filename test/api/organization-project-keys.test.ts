import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
let defaultProject: string
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
  defaultProject = t.ctx.bootstrap.created!.project.id
})
afterAll(async () => t.close())

describe('project API keys', () => {
  it('list and retrieve: redacted, with the owner as a project user, last_used_at once used', async () => {
    await t.client().models.list() // the bootstrap key has been used (written off the request path)
    await vi.waitFor(async () => {
      const keys = await admin.admin.organization.projects.apiKeys.list(defaultProject)
      expect(keys.data.find((k) => k.name === 'Bootstrap project key')!.last_used_at).not.toBeNull()
    })
    const list = await admin.admin.organization.projects.apiKeys.list(defaultProject)
    const bootstrap = list.data.find((k) => k.name === 'Bootstrap project key')!
    expect(bootstrap).toEqual({
      object: 'organization.project.api_key',
      redacted_value: `${PROJECT_KEY.slice(0, 11)}...${PROJECT_KEY.slice(-4)}`,
      name: 'Bootstrap project key',
      created_at: expect.any(Number),
      last_used_at: expect.any(Number),
      id: expect.stringMatching(/^key_/),
      owner: {
        type: 'user',
        user: {
          object: 'organization.project.user',
          id: expect.stringMatching(/^user-/),
          name: 'Owner',
          email: 'owner@localhost',
          role: 'owner',
          added_at: expect.any(Number),
        },
      },
    })
    expect(JSON.stringify(list)).not.toContain(PROJECT_KEY)
    expect(
      await admin.admin.organization.projects.apiKeys.retrieve(bootstrap.id, {
        project_id: defaultProject,
      }),
    ).toEqual(bootstrap)
  })

  it('a key is found only in its own project; unknown ids are 404', async () => {
    const other = await admin.admin.organization.projects.create({ name: 'Elsewhere' })
    const list = await admin.admin.organization.projects.apiKeys.list(defaultProject)
    const id = list.data[0].id
    for (const call of [
      () => admin.admin.organization.projects.apiKeys.retrieve(id, { project_id: other.id }),
      () => admin.admin.organization.projects.apiKeys.delete(id, { project_id: other.id }),
      () =>
        admin.admin.organization.projects.apiKeys.retrieve('key_nope', {
          project_id: defaultProject,
        }),
      () => admin.admin.organization.projects.apiKeys.list('proj_nope'),
    ]) {
      expect(await call().catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError)
    }
    expect((await admin.admin.organization.projects.apiKeys.list(other.id)).data).toEqual([])
  })

  it('delete revokes the key at once on this node', async () => {
    const secret = await newProjectKey(t, defaultProject)
    const client = t.client(secret)
    await client.models.list()
    const keys = await admin.admin.organization.projects.apiKeys.list(defaultProject, {
      limit: 100,
    })
    const key = keys.data.find(
      (k) => k.redacted_value.endsWith(secret.slice(-4)) && k.name === 'test key',
    )!
    expect(
      await admin.admin.organization.projects.apiKeys.delete(key.id, {
        project_id: defaultProject,
      }),
    ).toEqual({
      object: 'organization.project.api_key.deleted',
      id: key.id,
      deleted: true,
    })
    const error = await client.models.list().catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.error.code).toBe('invalid_api_key')
    expect(
      await admin.admin.organization.projects.apiKeys
        .retrieve(key.id, { project_id: defaultProject })
        .catch((e) => e.status),
    ).toBe(404)
  })

  it('list pages', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Keys' })
    for (let i = 0; i < 3; i++) await newProjectKey(t, project.id)
    const first = await admin.admin.organization.projects.apiKeys.list(project.id, { limit: 2 })
    expect([first.data.length, first.has_more]).toEqual([2, true])
    const all = []
    for await (const k of admin.admin.organization.projects.apiKeys.list(project.id, { limit: 2 }))
      all.push(k.id)
    expect(all).toHaveLength(3)
    expect(all).toEqual([...all].sort())
  })
})
