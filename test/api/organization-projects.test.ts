import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, hi, newProjectKey, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
})
afterAll(async () => t.close())

describe('projects', () => {
  it('create, retrieve, modify: the spec shapes', async () => {
    const created = await admin.admin.organization.projects.create({ name: 'Alpha' })
    expect(created).toEqual({
      id: expect.stringMatching(/^proj_/),
      object: 'organization.project',
      name: 'Alpha',
      created_at: expect.any(Number),
      archived_at: null,
      status: 'active',
    })
    expect(await admin.admin.organization.projects.retrieve(created.id)).toEqual(created)
    const renamed = await admin.admin.organization.projects.update(created.id, { name: 'Alpha 2' })
    expect(renamed).toEqual({ ...created, name: 'Alpha 2' })
    expect((await admin.admin.organization.projects.retrieve(created.id)).name).toBe('Alpha 2')
  })

  it("the creator (the admin key's user) owns the new project", async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Owned' })
    const members = await admin.admin.organization.projects.users.list(project.id)
    expect(members.data).toEqual([
      expect.objectContaining({ email: 'owner@localhost', role: 'owner' }),
    ])
  })

  it('list pages with after and limit; archived projects only with include_archived', async () => {
    const made = []
    for (const name of ['p1', 'p2', 'p3'])
      made.push(await admin.admin.organization.projects.create({ name }))
    await admin.admin.organization.projects.archive(made[1].id)
    const all = []
    for await (const p of admin.admin.organization.projects.list({ limit: 2 })) all.push(p)
    const ids = all.map((p) => p.id)
    expect(ids).toContain(made[0].id)
    expect(ids).not.toContain(made[1].id)
    expect(ids).toEqual([...ids].sort())
    const first = await admin.admin.organization.projects.list({ limit: 1 })
    expect(first.data).toHaveLength(1)
    expect(first.has_more).toBe(true)
    const withArchived = []
    for await (const p of admin.admin.organization.projects.list({
      include_archived: true,
      limit: 100,
    }))
      withArchived.push(p.id)
    expect(withArchived).toContain(made[1].id)
    expect(withArchived.length).toBe(ids.length + 1)
  })

  it('an unknown project is 404; a bad body is 400', async () => {
    const error = await admin.admin.organization.projects.retrieve('proj_nope').catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error).toEqual({
      message: "No project found with id 'proj_nope'.",
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
    const missing = await raw(t, 'POST', '/organization/projects', ADMIN_KEY, {})
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe("Missing required parameter: 'name'.")
    const extra = await raw(t, 'POST', '/organization/projects', ADMIN_KEY, {
      name: 'x',
      color: 'red',
    })
    expect(extra.body.error.code).toBe('unknown_parameter')
  })

  it("archiving stops the project's keys at once (401 naming the project), and archived projects cannot change", async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Doomed' })
    const key = await newProjectKey(t, project.id)
    const client = t.client(key)
    await client.chat.completions.create(hi) // cached as valid
    const archived = await admin.admin.organization.projects.archive(project.id)
    expect(archived).toMatchObject({
      id: project.id,
      status: 'archived',
      archived_at: expect.any(Number),
    })
    const error = await client.chat.completions.create(hi).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.error).toEqual({
      message: `The project ${project.id} for this API key is archived. Keys of archived projects cannot be used.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    })
    // every change of an archived project, archiving it again and its rate limits included, is
    // OpenAI's project_archived 400
    const projectArchived = {
      message: `Project '${project.id}' is archived. You can only update an active project.`,
      type: 'invalid_request_error',
      param: null,
      code: 'project_archived',
    }
    for (const call of [
      () => admin.admin.organization.projects.archive(project.id),
      () => admin.admin.organization.projects.update(project.id, { name: 'x' }),
      () =>
        admin.admin.organization.projects.rateLimits.updateRateLimit('rl-test-echo', {
          project_id: project.id,
          max_requests_per_1_minute: 5,
        }),
      () => admin.admin.organization.projects.users.list(project.id),
      () => admin.admin.organization.projects.serviceAccounts.list(project.id),
      () => admin.admin.organization.projects.serviceAccounts.create(project.id, { name: 'x' }),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error).toEqual(projectArchived)
    }
    // and it stays as it was archived
    expect(await admin.admin.organization.projects.retrieve(project.id)).toEqual(archived)
  })
})

describe('project model permissions', () => {
  it('an allow list limits /v1/models and every model path; a deny list excludes; delete lifts it', async () => {
    const project = await admin.admin.organization.projects.create({ name: 'Models' })
    const client = t.client(await newProjectKey(t, project.id))
    const all = (await client.models.list()).data.map((m) => m.id)
    expect(all).toEqual(expect.arrayContaining(['test-echo', 'test-scripted', 'test-embed']))

    const policy = await admin.admin.organization.projects.modelPermissions.update(project.id, {
      mode: 'allow_list',
      model_ids: ['test-echo'],
    })
    expect(policy).toEqual({
      object: 'project.model_permissions',
      mode: 'allow_list',
      model_ids: ['test-echo'],
    })
    expect(await admin.admin.organization.projects.modelPermissions.retrieve(project.id)).toEqual(
      policy,
    )
    // at once, on this node
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['test-echo'])
    expect((await client.chat.completions.create(hi)).choices[0].message.content).toBe('hi')

    const denied = (e: any) => ({ status: e.status, error: e.error })
    const a9 = (model: string) => ({
      status: 403,
      error: {
        message: `Project \`${project.id}\` does not have access to model \`${model}\``,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    })
    expect(
      denied(
        await client.chat.completions.create({ ...hi, model: 'test-scripted' }).catch((e) => e),
      ),
    ).toEqual(a9('test-scripted'))
    expect(
      denied(
        await client.chat.completions
          .create({ ...hi, model: 'test-scripted', stream: true })
          .catch((e) => e),
      ),
    ).toEqual(a9('test-scripted'))
    expect(
      denied(
        await client.completions.create({ model: 'test-scripted', prompt: 'x' }).catch((e) => e),
      ),
    ).toEqual(a9('test-scripted'))
    expect(
      denied(await client.embeddings.create({ model: 'test-embed', input: 'x' }).catch((e) => e)),
    ).toEqual(a9('test-embed'))
    // retrieving or deleting a model the project may not use: it does not exist for the project
    for (const call of [
      () => client.models.retrieve('test-embed'),
      () => client.models.delete('test-embed'),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error.code).toBe('model_not_found')
    }
    // no trick reaches another model: case, spaces, encoded paths
    for (const model of [
      'TEST-SCRIPTED',
      ' test-scripted',
      'test-scripted ',
      'test-echo/../test-scripted',
    ]) {
      const error = await client.chat.completions.create({ ...hi, model }).catch((e) => e)
      expect([403, 404], model).toContain(error.status)
    }
    const encoded = await raw(
      t,
      'GET',
      '/models/test-echo%2F..%2Ftest-scripted',
      await newProjectKey(t, project.id),
    )
    expect(encoded.status).toBe(404)

    await admin.admin.organization.projects.modelPermissions.update(project.id, {
      mode: 'deny_list',
      model_ids: ['test-echo'],
    })
    const listed = (await client.models.list()).data.map((m) => m.id)
    expect(listed).not.toContain('test-echo')
    expect(listed).toContain('test-scripted')
    expect(denied(await client.chat.completions.create(hi).catch((e) => e))).toEqual(
      a9('test-echo'),
    )

    const lifted = await admin.admin.organization.projects.modelPermissions.delete(project.id)
    expect(lifted).toEqual({ object: 'project.model_permissions.deleted', deleted: true })
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(all)
    // other projects were never affected
    expect(
      (
        await t
          .client()
          .chat.completions.create({
            ...hi,
            model: 'test-scripted',
            messages: [{ role: 'user', content: 'hello' }],
          })
      ).object,
    ).toBe('chat.completion')
  })

  it('a project key cannot change model permissions; unknown projects are 404', async () => {
    const error = await admin.admin.organization.projects.modelPermissions
      .retrieve('proj_nope')
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    const fromProject = await raw(
      t,
      'GET',
      `/organization/projects/${t.ctx.bootstrap.created!.project.id}/model_permissions`,
      await newProjectKey(t, t.ctx.bootstrap.created!.project.id),
    )
    expect(fromProject.status).toBe(401)
    expect(fromProject.body.error.message).toContain('Missing scopes: api.management.read.')
  })
})
