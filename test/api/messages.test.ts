import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageRow } from '../../src/domain/assistants/records.js'
import { newId, nowSeconds } from '../../src/storage/ids.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { METADATA_CASES, uploadFile } from '../helpers/assistants.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
let projectId: string
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
  projectId = t.ctx.bootstrap.created!.project.id
})
afterAll(async () => t.close())

/** A message as the run engine will write one: by an assistant, in a run. */
async function runMessage(threadId: string, runId: string, text: string) {
  const now = nowSeconds()
  await createRepos(t.ctx.storage.db).messages.insert(
    messageRow({
      id: newId('msg_'),
      projectId,
      threadId,
      createdAt: now,
      role: 'assistant',
      content: [{ type: 'text', text: { value: text, annotations: [] } }],
      attachments: [],
      metadata: {},
      status: 'completed',
      incompleteDetails: null,
      completedAt: now,
      incompleteAt: null,
      assistantId: 'asst_fromrun',
      runId,
    }),
  )
}

describe('messages (v2)', () => {
  it('creates a message from text and reads it back', async () => {
    const thread = await client.beta.threads.create()
    const message = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'How does AI work?',
      metadata: { lang: 'en' },
    })
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_[A-Za-z0-9]{20,}$/),
      object: 'thread.message',
      created_at: expect.any(Number),
      assistant_id: null,
      thread_id: thread.id,
      run_id: null,
      role: 'user',
      content: [{ type: 'text', text: { value: 'How does AI work?', annotations: [] } }],
      attachments: [],
      metadata: { lang: 'en' },
      status: 'completed',
      incomplete_details: null,
      completed_at: message.created_at,
      incomplete_at: null,
    })
    expect(
      await client.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
    ).toEqual(message)
  })

  it('takes content parts (text, image_file, image_url) and attachments', async () => {
    const thread = await client.beta.threads.create()
    const image = await uploadFile(client, 'chart.png', 'vision')
    const doc = await uploadFile(client, 'doc.txt')
    const message = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: [
        { type: 'text', text: 'Look:' },
        { type: 'image_file', image_file: { file_id: image.id, detail: 'low' } },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      ],
      attachments: [
        { file_id: doc.id, tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] },
      ],
    })
    expect(message.content).toEqual([
      { type: 'text', text: { value: 'Look:', annotations: [] } },
      { type: 'image_file', image_file: { file_id: image.id, detail: 'low' } },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
    ])
    expect(message.attachments).toEqual([
      { file_id: doc.id, tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] },
    ])
    await expect(
      client.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: [{ type: 'image_file', image_file: { file_id: 'file-gone' } }],
      }),
    ).rejects.toMatchObject({ status: 404, error: { message: 'No such File object: file-gone' } })
    await expect(
      client.beta.threads.messages.create(thread.id, { role: 'user', content: [] }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'content', code: 'empty_array' } })
    expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(1)
  })

  it('lists newest first, pages both ways, and filters by run', async () => {
    const thread = await client.beta.threads.create()
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      ids.push(
        (await client.beta.threads.messages.create(thread.id, { role: 'user', content: `m${i}` }))
          .id,
      )
    }
    await runMessage(thread.id, 'run_one', 'from the run')
    const all = await client.beta.threads.messages.list(thread.id)
    expect(all.data.map((m) => m.id).slice(1)).toEqual([...ids].reverse())
    expect(all.data[0]).toMatchObject({
      run_id: 'run_one',
      assistant_id: 'asst_fromrun',
      role: 'assistant',
    })

    const page = await client.beta.threads.messages.list(thread.id, { order: 'asc', limit: 2 })
    expect(page.data.map((m) => m.id)).toEqual(ids.slice(0, 2))
    expect(page.has_more).toBe(true)
    const next = await client.beta.threads.messages.list(thread.id, {
      order: 'asc',
      limit: 2,
      after: ids[1],
    })
    expect(next.data.map((m) => m.id)).toEqual(ids.slice(2))
    const back = await client.beta.threads.messages.list(thread.id, {
      order: 'asc',
      before: ids[3],
      limit: 2,
    })
    expect(back.data.map((m) => m.id)).toEqual([ids[1], ids[2]])
    expect(back.has_more).toBe(true)

    const fromRun = await client.beta.threads.messages.list(thread.id, { run_id: 'run_one' })
    expect(fromRun.data.map((m) => m.content)).toEqual([
      [{ type: 'text', text: { value: 'from the run', annotations: [] } }],
    ])
    expect(
      (await client.beta.threads.messages.list(thread.id, { run_id: 'run_other' })).data,
    ).toEqual([])
  })

  it('modifies metadata only, and deletes', async () => {
    const thread = await client.beta.threads.create()
    const message = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'hi',
    })
    const modified = await client.beta.threads.messages.update(message.id, {
      thread_id: thread.id,
      metadata: { seen: 'yes' },
    })
    expect(modified).toEqual({ ...message, metadata: { seen: 'yes' } })
    await expect(
      t
        .fetch(`http://plinth.test/v1/threads/${thread.id}/messages/${message.id}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${(client as any).apiKey}`,
            'openai-beta': 'assistants=v2',
            'content-type': 'application/json',
          },
          body: JSON.stringify({ content: 'changed' }),
        })
        .then((r) => r.json()),
    ).resolves.toMatchObject({ error: { message: "Unknown parameter: 'content'." } })

    expect(await client.beta.threads.messages.delete(message.id, { thread_id: thread.id })).toEqual(
      {
        id: message.id,
        object: 'thread.message.deleted',
        deleted: true,
      },
    )
    const gone = {
      status: 404,
      error: { message: `No message found with id '${message.id}'.`, param: null, code: null },
    }
    await expect(
      client.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
    ).rejects.toMatchObject(gone)
    await expect(
      client.beta.threads.messages.delete(message.id, { thread_id: thread.id }),
    ).rejects.toMatchObject(gone)
  })

  it('finds a message only in its own thread', async () => {
    const [a, b] = [await client.beta.threads.create(), await client.beta.threads.create()]
    const message = await client.beta.threads.messages.create(a.id, {
      role: 'user',
      content: 'in a',
    })
    await expect(
      client.beta.threads.messages.retrieve(message.id, { thread_id: b.id }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: `No message found with id '${message.id}'.` },
    })
    await expect(
      client.beta.threads.messages.retrieve('thread_x', { thread_id: a.id }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message: "Invalid 'message_id': 'thread_x'. Expected an ID that begins with 'msg'.",
      },
    })
  })

  it('refuses new messages while a run holds the thread (G7)', async () => {
    const thread = await client.beta.threads.create()
    const repos = createRepos(t.ctx.storage.db)
    expect(await repos.threads.claimForRun(projectId, thread.id, 'run_busy')).toBe(true)
    expect(await repos.threads.claimForRun(projectId, thread.id, 'run_second')).toBe(false)
    await expect(
      client.beta.threads.messages.create(thread.id, { role: 'user', content: 'wait' }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message: `Can't add messages to ${thread.id} while a run run_busy is active.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
    expect(await repos.threads.releaseFromRun(projectId, thread.id, 'run_busy')).toBe(true)
    await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'now' })
  })

  it.each(METADATA_CASES)('enforces the metadata limits (%#)', async ({ metadata, error }) => {
    const thread = await client.beta.threads.create()
    await expect(
      client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x', metadata }),
    ).rejects.toMatchObject({ status: 400, error })
    const message = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'x',
    })
    await expect(
      client.beta.threads.messages.update(message.id, { thread_id: thread.id, metadata }),
    ).rejects.toMatchObject({ status: 400, error })
  })

  it("keeps projects apart: another project's messages are not found", async () => {
    const thread = await client.beta.threads.create()
    const message = await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'mine',
    })
    const other = await otherProjectClient(t)
    const threadGone = {
      status: 404,
      error: { message: `No thread found with id '${thread.id}'.` },
    }
    await expect(
      other.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
    ).rejects.toMatchObject(threadGone)
    await expect(
      other.beta.threads.messages.update(message.id, {
        thread_id: thread.id,
        metadata: { a: 'b' },
      }),
    ).rejects.toMatchObject(threadGone)
    await expect(
      other.beta.threads.messages.delete(message.id, { thread_id: thread.id }),
    ).rejects.toMatchObject(threadGone)
    expect(
      await client.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
    ).toEqual(message)
  })
})
