import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { METADATA_CASES, rawJson, uploadFile } from '../helpers/assistants.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const countRows = async (table: 'threads' | 'messages') =>
  Number(
    (
      await t.ctx.storage.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

describe('threads (v2)', () => {
  it('creates an empty thread', async () => {
    const thread = await client.beta.threads.create()
    expect(thread).toEqual({
      id: expect.stringMatching(/^thread_[A-Za-z0-9]{20,}$/),
      object: 'thread',
      created_at: expect.any(Number),
      metadata: {},
      tool_resources: {},
    })
    expect(await client.beta.threads.retrieve(thread.id)).toEqual(thread)
  })

  it('creates a thread with its messages, in the order given', async () => {
    const file = await uploadFile(client)
    const thread = await client.beta.threads.create({
      messages: [
        { role: 'user', content: 'first', metadata: { n: '1' } },
        { role: 'assistant', content: [{ type: 'text', text: 'second' }] },
        {
          role: 'user',
          content: 'third',
          attachments: [{ file_id: file.id, tools: [{ type: 'file_search' }] }],
        },
      ],
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
      metadata: { topic: 'order' },
    })
    expect(thread).toMatchObject({
      metadata: { topic: 'order' },
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
    })
    const messages = await client.beta.threads.messages.list(thread.id, { order: 'asc' })
    expect(messages.data.map((m) => [m.role, m.content])).toEqual([
      ['user', [{ type: 'text', text: { value: 'first', annotations: [] } }]],
      ['assistant', [{ type: 'text', text: { value: 'second', annotations: [] } }]],
      ['user', [{ type: 'text', text: { value: 'third', annotations: [] } }]],
    ])
    expect(messages.data[0].metadata).toEqual({ n: '1' })
    expect(messages.data[2].attachments).toEqual([
      { file_id: file.id, tools: [{ type: 'file_search' }] },
    ])
    expect(
      messages.data.every((m) => m.thread_id === thread.id && m.created_at === thread.created_at),
    ).toBe(true)
  })

  it('writes nothing when one of the messages names a missing file', async () => {
    const [threads, messages] = [await countRows('threads'), await countRows('messages')]
    await expect(
      client.beta.threads.create({
        messages: [
          { role: 'user', content: 'fine' },
          { role: 'user', content: 'bad', attachments: [{ file_id: 'file-missing', tools: [] }] },
        ],
      }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-missing' },
    })
    await expect(
      client.beta.threads.create({
        messages: [{ role: 'user', content: 'fine' }],
        tool_resources: { file_search: { vector_store_ids: ['vs_missing'] } },
      }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: "No vector store found with id 'vs_missing'." },
    })
    await expect(
      client.beta.threads.create({
        messages: [{ role: 'user', content: 'ok' }, { role: 'system', content: 'no' } as never],
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'messages[1].role', code: 'invalid_value' },
    })
    expect([await countRows('threads'), await countRows('messages')]).toEqual([threads, messages])
  })

  it('modifies metadata and tool resources, keeping what is left out', async () => {
    const [a, b] = [await uploadFile(client, 'a.txt'), await uploadFile(client, 'b.txt')]
    const thread = await client.beta.threads.create({
      tool_resources: { code_interpreter: { file_ids: [a.id] } },
      metadata: { v: '1' },
    })
    const renamed = await client.beta.threads.update(thread.id, { metadata: { v: '2' } })
    expect(renamed).toEqual({ ...thread, metadata: { v: '2' } })
    const moved = await client.beta.threads.update(thread.id, {
      tool_resources: { code_interpreter: { file_ids: [b.id] } },
    })
    expect(moved).toEqual({
      ...thread,
      metadata: { v: '2' },
      tool_resources: { code_interpreter: { file_ids: [b.id] } },
    })
    expect(await client.beta.threads.retrieve(thread.id)).toEqual(moved)
  })

  it('deletes a thread with its messages; then it is G4', async () => {
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'bye' }],
    })
    const [message] = (await client.beta.threads.messages.list(thread.id)).data
    expect(await client.beta.threads.delete(thread.id)).toEqual({
      id: thread.id,
      object: 'thread.deleted',
      deleted: true,
    })
    const repos = createRepos(t.ctx.storage.db)
    expect(
      await repos.messages.get(t.ctx.bootstrap.created!.project.id, thread.id, message.id),
    ).toBeUndefined()
    const gone = {
      status: 404,
      error: {
        message: `No thread found with id '${thread.id}'.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }
    await expect(client.beta.threads.retrieve(thread.id)).rejects.toMatchObject(gone)
    await expect(client.beta.threads.update(thread.id, { metadata: {} })).rejects.toMatchObject(
      gone,
    )
    await expect(client.beta.threads.delete(thread.id)).rejects.toMatchObject(gone)
    await expect(client.beta.threads.messages.list(thread.id)).rejects.toMatchObject(gone)
  })

  it("never takes /threads/runs for a thread called 'runs' (it is create-and-run)", async () => {
    const res = await rawJson(t, 'POST', '/threads/runs', { body: { assistant_id: 'asst_x' } })
    expect(res).toMatchObject({
      status: 404,
      body: { error: { message: "No assistant found with id 'asst_x'." } },
    })
  })

  it("answers an id of another kind with G5's exact 400", async () => {
    await expect(client.beta.threads.retrieve('asst_123')).rejects.toMatchObject({
      status: 400,
      error: {
        message: "Invalid 'thread_id': 'asst_123'. Expected an ID that begins with 'thread'.",
        type: 'invalid_request_error',
        param: 'thread_id',
      },
    })
  })

  it.each(METADATA_CASES)('enforces the metadata limits (%#)', async ({ metadata, error }) => {
    await expect(client.beta.threads.create({ metadata })).rejects.toMatchObject({
      status: 400,
      error,
    })
    const thread = await client.beta.threads.create()
    await expect(client.beta.threads.update(thread.id, { metadata })).rejects.toMatchObject({
      status: 400,
      error,
    })
    await expect(
      client.beta.threads.create({ messages: [{ role: 'user', content: 'x', metadata }] }),
    ).rejects.toMatchObject({ status: 400, error: { param: `messages[0].${error.param}` } })
  })

  it("keeps projects apart: another project's thread is G4", async () => {
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'private' }],
    })
    const other = await otherProjectClient(t)
    const notFound = { status: 404, error: { message: `No thread found with id '${thread.id}'.` } }
    await expect(other.beta.threads.retrieve(thread.id)).rejects.toMatchObject(notFound)
    await expect(
      other.beta.threads.update(thread.id, { metadata: { x: 'y' } }),
    ).rejects.toMatchObject(notFound)
    await expect(other.beta.threads.delete(thread.id)).rejects.toMatchObject(notFound)
    await expect(other.beta.threads.messages.list(thread.id)).rejects.toMatchObject(notFound)
    await expect(
      other.beta.threads.messages.create(thread.id, { role: 'user', content: 'intrude' }),
    ).rejects.toMatchObject(notFound)
    expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(1)
  })
})
