import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { openStorage } from '../../src/storage/storage.js'
import { rawJson, uploadFile, v1Client } from '../helpers/assistants.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'
import type { TestApp } from '../helpers/test-context.js'
import { validatingFetch } from '../helpers/validating-fetch.js'

// The Assistants API's resources on PostgreSQL through the official SDK, both versions: the row
// locks (files attached at once), the thread's transaction, pages in byte order.

const ADMIN_KEY = 'sk-admin-pgasst-000000000000000000000'
const PROJECT_KEY = 'sk-proj-pgasst-0000000000000000000000'

describePg('the Assistants API on postgres', () => {
  let pgSchema: PgSchema
  let dataDir: string
  let ctx: AppContext
  let t: TestApp
  let client: OpenAI

  beforeAll(async () => {
    pgSchema = withPgSchema('asst_app')
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pg-asst-'))
    const config = parseConfig({
      dataDir,
      bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
      testModels: { enabled: true },
    })
    ctx = await createContext(config, { storage: await openStorage(pgSchema.config) })
    const app = createApp(ctx)
    const request = validatingFetch(((url: string, init: RequestInit) =>
      app.request(url, init)) as typeof fetch)
    const clientFor = (key = PROJECT_KEY, options = {}) =>
      new OpenAI({
        apiKey: key,
        baseURL: 'http://plinth.test/v1',
        maxRetries: 0,
        fetch: request,
        ...options,
      })
    t = { ctx, fetch: request, client: clientFor } as unknown as TestApp
    client = clientFor()
  })
  afterAll(async () => {
    await ctx?.close()
    await pgSchema?.drop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps every file attached at once to a v1 assistant, and shows them in v2', async () => {
    const assistant: any = await v1Client(t, PROJECT_KEY).beta.assistants.create({
      model: 'test-echo',
    })
    const files = await Promise.all(
      Array.from({ length: 6 }, (_, i) => uploadFile(client, `f${i}.txt`)),
    )
    const attached = await Promise.all(
      files.map((f) =>
        rawJson(t, 'POST', `/assistants/${assistant.id}/files`, {
          beta: 'assistants=v1',
          body: { file_id: f.id },
          key: PROJECT_KEY,
        }),
      ),
    )
    expect(attached.map((r) => r.status)).toEqual(files.map(() => 200))
    const v2 = await client.beta.assistants.retrieve(assistant.id)
    expect([...(v2.tool_resources?.code_interpreter?.file_ids ?? [])].sort()).toEqual(
      files.map((f) => f.id).sort(),
    )
  })

  it('writes a thread with its messages, pages them, and deletes them together', async () => {
    const thread = await client.beta.threads.create({
      messages: Array.from({ length: 5 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })),
      metadata: { on: 'pg' },
    })
    const texts = async (query: OpenAI.Beta.Threads.MessageListParams) =>
      (await client.beta.threads.messages.list(thread.id, query)).data.map(
        (m) => (m.content[0] as { text: { value: string } }).text.value,
      )
    expect(await texts({ order: 'asc' })).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    const all = (await client.beta.threads.messages.list(thread.id, { order: 'asc' })).data
    expect(await texts({ order: 'asc', after: all[1].id, limit: 2 })).toEqual(['m2', 'm3'])
    expect(await texts({ order: 'desc', before: all[1].id })).toEqual(['m4', 'm3', 'm2'])
    await expect(
      client.beta.threads.create({
        messages: [
          { role: 'user', content: 'x', attachments: [{ file_id: 'file-none', tools: [] }] },
        ],
      }),
    ).rejects.toMatchObject({ status: 404 })
    expect(await client.beta.threads.delete(thread.id)).toMatchObject({ deleted: true })
    await expect(client.beta.threads.messages.list(thread.id)).rejects.toMatchObject({
      status: 404,
    })
  })
})
