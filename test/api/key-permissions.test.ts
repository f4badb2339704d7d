import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliActor } from '../../src/domain/organization/index.js'
import { hi, newProjectKey } from '../helpers/admin.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let projectId: string
beforeAll(async () => {
  t = await createTestApp()
  projectId = t.ctx.bootstrap.created!.project.id
})
afterAll(async () => t.close())

const missing = (scope: string) => ({
  message: `You have insufficient permissions for this operation. Missing scopes: ${scope}. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.`,
  type: 'invalid_request_error',
  param: null,
  code: null,
})

async function refused(call: () => Promise<unknown>, scope: string) {
  const error: any = await call().catch((e) => e)
  expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
  expect(error.error).toEqual(missing(scope))
}

const upload = async (client: OpenAI) =>
  client.files.create({ file: await toFile(Buffer.from('{}\n'), 'a.jsonl'), purpose: 'batch' })

describe('key permissions', () => {
  it('a read-only key lists and retrieves, but writes nothing and calls no model', async () => {
    const client = t.client(await newProjectKey(t, projectId, { mode: 'read_only' }))
    expect((await client.models.list()).data.length).toBeGreaterThan(0)
    expect((await client.files.list()).data).toEqual(expect.any(Array))
    expect((await client.chat.completions.list()).data).toEqual(expect.any(Array))
    await refused(() => client.chat.completions.create(hi), 'api.chat.write')
    await refused(
      () => client.embeddings.create({ model: 'test-embed', input: 'x' }),
      'api.embeddings.write',
    )
    await refused(() => upload(client), 'api.files.write')
    await refused(
      () =>
        client.batches.create({
          input_file_id: 'file-x',
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
        }),
      'api.batch.write',
    )
  })

  it('a restricted key gets exactly its resources: none, read or write each', async () => {
    const client = t.client(
      await newProjectKey(t, projectId, {
        mode: 'restricted',
        scopes: { models: 'read', chat: 'write', files: 'read' },
      }),
    )
    expect((await client.models.list()).data.length).toBeGreaterThan(0)
    expect((await client.chat.completions.create(hi)).choices[0].message.content).toBe('hi')
    expect((await client.files.list()).data).toEqual(expect.any(Array))
    await refused(() => upload(client), 'api.files.write')
    await refused(
      () => client.embeddings.create({ model: 'test-embed', input: 'x' }),
      'api.embeddings.write',
    )
    await refused(() => client.models.delete('test-echo'), 'api.model.write')
    await refused(() => client.batches.list(), 'api.batch.read')
    // nothing granted: nothing at all
    const none = t.client(await newProjectKey(t, projectId, { mode: 'restricted', scopes: {} }))
    await refused(() => none.models.list(), 'api.model.read')
  })

  it('conversations are under the responses scope: read lists and retrieves, write creates', async () => {
    const conv = await t.client().conversations.create({ items: [{ role: 'user', content: 'x' }] })
    const reader = t.client(await newProjectKey(t, projectId, { mode: 'restricted', scopes: { responses: 'read' } }))
    expect((await reader.conversations.retrieve(conv.id)).id).toBe(conv.id)
    expect((await reader.conversations.items.list(conv.id)).data).toHaveLength(1)
    await refused(() => reader.conversations.create(), 'api.responses.write')
    await refused(() => reader.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'y' }] }), 'api.responses.write')
    await refused(() => reader.responses.inputTokens.count({ input: 'x' }), 'api.responses.write')
    const none = t.client(await newProjectKey(t, projectId, { mode: 'restricted', scopes: { chat: 'write' } }))
    await refused(() => none.conversations.retrieve(conv.id), 'api.responses.read')
  })

  it("changing a key's permissions (plinth keys permissions) takes effect at once and is audited", async () => {
    const created = await t.ctx.services.keys.create({
      orgId: t.ctx.organization.id,
      projectId,
      name: 'changing',
    })
    const client = t.client(created.secret)
    await client.chat.completions.create(hi)
    const actor = await cliActor(t.ctx.storage, t.ctx.organization.id)
    await t.ctx.services.admin.projectKeys.setPermissions(
      actor,
      t.ctx.organization.id,
      created.row.id,
      { mode: 'read_only' },
    )
    await refused(() => client.chat.completions.create(hi), 'api.chat.write')
    const log = await t.ctx.services.admin.auditLogs.list(
      {
        orgId: t.ctx.organization.id,
        projectId: null,
        keyId: 'cli',
        kind: 'admin',
        permissions: { mode: 'all' },
      },
      { types: ['api_key.updated'], resourceIds: [created.row.id], limit: 10 },
    )
    expect(log.data).toEqual([
      expect.objectContaining({
        type: 'api_key.updated',
        actor: {
          type: 'session',
          session: {
            user: { id: expect.any(String), email: 'owner@localhost' },
            ip_address: '127.0.0.1',
          },
        },
        'api_key.updated': expect.objectContaining({
          id: created.row.id,
          changes_requested: { scopes: expect.arrayContaining(['api.chat.read']) },
          before: { permissions: { mode: 'all' } },
          after: { permissions: { mode: 'read_only' } },
        }),
      }),
    ])
  })
})
