import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawJson, uploadFile, v1Client } from '../helpers/assistants.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The v1 beta (OpenAI-Beta: assistants=v1): shapes from openai-openapi-2024-04-15-assistants-v1.yaml,
// which the validating fetch checks every response against. SDK 6 types only v2, hence the casts.

let t: TestApp
let v1: OpenAI
let v2: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  v1 = v1Client(t)
  v2 = t.client()
})
afterAll(async () => t.close())

const v1Create = (params: Record<string, unknown>) =>
  v1.beta.assistants.create(params as never) as Promise<any>

describe('assistants (v1)', () => {
  it('creates an assistant with file_ids and the retrieval tool, in v1 shape', async () => {
    const file = await uploadFile(v2)
    const created = await v1Create({
      model: 'test-echo',
      name: 'Math Tutor',
      instructions: 'You are a personal math tutor.',
      tools: [{ type: 'code_interpreter' }, { type: 'retrieval' }],
      file_ids: [file.id],
      metadata: { v: '1' },
    })
    expect(created).toEqual({
      id: expect.stringMatching(/^asst_/),
      object: 'assistant',
      created_at: expect.any(Number),
      name: 'Math Tutor',
      description: null,
      model: 'test-echo',
      instructions: 'You are a personal math tutor.',
      tools: [{ type: 'code_interpreter' }, { type: 'retrieval' }],
      file_ids: [file.id],
      metadata: { v: '1' },
      top_p: 1,
      temperature: 1,
      response_format: 'auto',
    })
    expect(await v1.beta.assistants.retrieve(created.id)).toEqual(created)
    // the same assistant through v2: file_search, and the files as the code interpreter's
    expect(await v2.beta.assistants.retrieve(created.id)).toMatchObject({
      tools: [{ type: 'code_interpreter' }, { type: 'file_search' }],
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
    })
    expect(await v2.beta.assistants.retrieve(created.id)).not.toHaveProperty('file_ids')
  })

  it('reads a v2 assistant in v1 terms', async () => {
    const file = await uploadFile(v2)
    const created = await v2.beta.assistants.create({
      model: 'test-echo',
      tools: [
        { type: 'file_search', file_search: { max_num_results: 3 } },
        { type: 'code_interpreter' },
      ],
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
      temperature: 0.5,
    })
    const read: any = await v1.beta.assistants.retrieve(created.id)
    expect(read).toMatchObject({
      tools: [{ type: 'retrieval' }, { type: 'code_interpreter' }],
      file_ids: [file.id],
      temperature: 0.5,
    })
    expect(read).not.toHaveProperty('tool_resources')
    const listed: any[] = (await v1.beta.assistants.list({ limit: 100 })).data
    expect(listed.find((a) => a.id === created.id)).toEqual(read)
  })

  it('modifies in v1 terms: file_ids replace the files, tools map to v2', async () => {
    const [a, b] = [await uploadFile(v2, 'a.txt'), await uploadFile(v2, 'b.txt')]
    const created = await v1Create({ model: 'test-echo', file_ids: [a.id] })
    const modified: any = await v1.beta.assistants.update(created.id, {
      file_ids: [b.id],
      tools: [{ type: 'retrieval' }],
      name: 'renamed',
    } as never)
    expect(modified).toEqual({
      ...created,
      file_ids: [b.id],
      tools: [{ type: 'retrieval' }],
      name: 'renamed',
    })
    expect(await v1.beta.assistants.delete(created.id)).toEqual({
      id: created.id,
      object: 'assistant.deleted',
      deleted: true,
    })
  })

  it('refuses the v2 fields and tools in a v1 request', async () => {
    await expect(
      v1Create({ model: 'test-echo', tool_resources: { code_interpreter: { file_ids: [] } } }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: "Unknown parameter: 'tool_resources'." },
    })
    await expect(
      v1Create({ model: 'test-echo', tools: [{ type: 'file_search' }] }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message:
          "Invalid value: 'file_search'. Supported values are: 'code_interpreter', 'retrieval', and 'function'.",
      },
    })
    await expect(v1Create({ model: 'test-echo', temperature: 1 })).rejects.toMatchObject({
      status: 400,
      error: { message: "Unknown parameter: 'temperature'." },
    })
    await expect(v1Create({ model: 'test-echo', file_ids: ['file-nope'] })).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-nope' },
    })
  })
})

describe('assistant files (v1 only)', () => {
  it('attaches, lists, retrieves and detaches files; v2 sees them as code interpreter files', async () => {
    const assistant = await v1Create({ model: 'test-echo' })
    const files = [
      await uploadFile(v2, 'a.txt'),
      await uploadFile(v2, 'b.txt'),
      await uploadFile(v2, 'c.txt'),
    ]
    const attached = []
    for (const f of files) {
      const res = await rawJson(t, 'POST', `/assistants/${assistant.id}/files`, {
        beta: 'assistants=v1',
        body: { file_id: f.id },
      })
      expect(res.status).toBe(200)
      attached.push(res.body)
    }
    expect(attached[0]).toEqual({
      id: files[0].id,
      object: 'assistant.file',
      created_at: expect.any(Number),
      assistant_id: assistant.id,
    })
    // attaching again returns the same file
    const again = await rawJson(t, 'POST', `/assistants/${assistant.id}/files`, {
      beta: 'assistants=v1',
      body: { file_id: files[0].id },
    })
    expect(again.body).toEqual(attached[0])

    const list = await rawJson(t, 'GET', `/assistants/${assistant.id}/files?limit=2`, {
      beta: 'assistants=v1',
    })
    expect(list.body).toEqual({
      object: 'list',
      data: [attached[2], attached[1]],
      first_id: files[2].id,
      last_id: files[1].id,
      has_more: true,
    })
    const rest = await rawJson(
      t,
      'GET',
      `/assistants/${assistant.id}/files?limit=2&after=${files[1].id}`,
      {
        beta: 'assistants=v1',
      },
    )
    expect(rest.body.data).toEqual([attached[0]])
    expect(rest.body.has_more).toBe(false)
    const asc = await rawJson(
      t,
      'GET',
      `/assistants/${assistant.id}/files?order=asc&before=${files[2].id}`,
      {
        beta: 'assistants=v1',
      },
    )
    expect(asc.body.data).toEqual([attached[0], attached[1]])

    const one = await rawJson(t, 'GET', `/assistants/${assistant.id}/files/${files[1].id}`, {
      beta: 'assistants=v1',
    })
    expect(one.body).toEqual(attached[1])
    expect((await v2.beta.assistants.retrieve(assistant.id)).tool_resources).toEqual({
      code_interpreter: { file_ids: files.map((f) => f.id) },
    })

    const deleted = await rawJson(t, 'DELETE', `/assistants/${assistant.id}/files/${files[1].id}`, {
      beta: 'assistants=v1',
    })
    expect(deleted.body).toEqual({
      id: files[1].id,
      object: 'assistant.file.deleted',
      deleted: true,
    })
    expect(((await v1.beta.assistants.retrieve(assistant.id)) as any).file_ids).toEqual([
      files[0].id,
      files[2].id,
    ])
    const missing = await rawJson(t, 'GET', `/assistants/${assistant.id}/files/${files[1].id}`, {
      beta: 'assistants=v1',
    })
    expect(missing).toMatchObject({
      status: 404,
      body: { error: { message: `No assistant file found with id '${files[1].id}'.` } },
    })
    // the File itself stays
    expect((await v2.files.retrieve(files[1].id)).id).toBe(files[1].id)
  })

  it('refuses a 21st file, an unknown file, and an unknown assistant', async () => {
    const files = []
    for (let i = 0; i < 21; i++) files.push(await uploadFile(v2, `f${i}.txt`))
    const assistant = await v1Create({
      model: 'test-echo',
      file_ids: files.slice(0, 20).map((f) => f.id),
    })
    const post = (assistantId: string, file_id: string) =>
      rawJson(t, 'POST', `/assistants/${assistantId}/files`, {
        beta: 'assistants=v1',
        body: { file_id },
      })
    expect(await post(assistant.id, files[20].id)).toMatchObject({
      status: 400,
      body: { error: { param: 'file_ids', code: 'array_above_max_length' } },
    })
    expect(await post(assistant.id, 'file-unknown')).toMatchObject({
      status: 404,
      body: { error: { message: 'No such File object: file-unknown' } },
    })
    expect(await post('asst_unknown', files[0].id)).toMatchObject({
      status: 404,
      body: { error: { message: "No assistant found with id 'asst_unknown'." } },
    })
    const other = await otherProjectClient(t)
    const otherKey = (other as any).apiKey as string
    const theirs = await rawJson(t, 'GET', `/assistants/${assistant.id}/files`, {
      beta: 'assistants=v1',
      key: otherKey,
    })
    expect(theirs).toMatchObject({
      status: 404,
      body: { error: { message: `No assistant found with id '${assistant.id}'.` } },
    })
  })

  it("does not exist in v2: a v2 request gets the unknown route's 404", async () => {
    const assistant = await v1Create({ model: 'test-echo' })
    const res = await rawJson(t, 'GET', `/assistants/${assistant.id}/files`, {
      beta: 'assistants=v2',
    })
    expect(res).toEqual({
      status: 404,
      body: {
        error: {
          message: `Invalid URL (GET /v1/assistants/${assistant.id}/files)`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    })
  })
})

describe('threads and messages (v1)', () => {
  it('creates a thread with messages carrying file_ids; v2 sees attachments', async () => {
    const file = await uploadFile(v2)
    const thread: any = await v1.beta.threads.create({
      messages: [{ role: 'user', content: 'read this', file_ids: [file.id] }],
      metadata: { v: '1' },
    } as never)
    expect(thread).toEqual({
      id: expect.stringMatching(/^thread_/),
      object: 'thread',
      created_at: expect.any(Number),
      metadata: { v: '1' },
    })
    const [message]: any[] = (await v1.beta.threads.messages.list(thread.id)).data
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_/),
      object: 'thread.message',
      created_at: thread.created_at,
      assistant_id: null,
      thread_id: thread.id,
      run_id: null,
      role: 'user',
      content: [{ type: 'text', text: { value: 'read this', annotations: [] } }],
      file_ids: [file.id],
      metadata: {},
      status: 'completed',
      incomplete_details: null,
      completed_at: thread.created_at,
      incomplete_at: null,
    })
    const inV2 = await v2.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })
    expect(inV2.attachments).toEqual([
      { file_id: file.id, tools: [{ type: 'code_interpreter' }, { type: 'file_search' }] },
    ])
    expect(inV2).not.toHaveProperty('file_ids')
    // the message's files are for retrieval too: they went into a thread vector store, as OpenAI's
    expect(await v2.beta.threads.retrieve(thread.id)).toEqual({
      ...thread,
      tool_resources: { file_search: { vector_store_ids: [expect.stringMatching(/^vs_/)] } },
    })
  })

  it('reads v2 attachments as v1 file_ids, and v2 threads without tool_resources', async () => {
    const file = await uploadFile(v2)
    const thread = await v2.beta.threads.create({
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
    })
    const message = await v2.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'twice',
      attachments: [
        { file_id: file.id, tools: [{ type: 'code_interpreter' }] },
        { file_id: file.id, tools: [{ type: 'file_search' }] },
      ],
    })
    const read: any = await v1.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })
    expect(read.file_ids).toEqual([file.id])
    expect(read).not.toHaveProperty('attachments')
    const t1: any = await v1.beta.threads.retrieve(thread.id)
    expect(t1).not.toHaveProperty('tool_resources')
    expect(await v1.beta.threads.update(thread.id, { metadata: { k: 'v' } })).toEqual({
      ...t1,
      metadata: { k: 'v' },
    })
  })

  it('creates, modifies and lists messages in v1 shape', async () => {
    const thread = await v1.beta.threads.create()
    const file = await uploadFile(v2)
    const created: any = await v1.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'hello',
      file_ids: [file.id],
    } as never)
    expect(created.file_ids).toEqual([file.id])
    const modified: any = await v1.beta.threads.messages.update(created.id, {
      thread_id: thread.id,
      metadata: { a: 'b' },
    })
    expect(modified).toEqual({ ...created, metadata: { a: 'b' } })
    const page: any = await v1.beta.threads.messages.list(thread.id)
    expect(page.data).toEqual([modified])
  })

  it('refuses what v1 did not take: content parts, attachments, empty content, tool_resources', async () => {
    const thread = await v1.beta.threads.create()
    await expect(
      v1.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: [{ type: 'text', text: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'content', code: 'invalid_type' } })
    await expect(
      v1.beta.threads.messages.create(thread.id, { role: 'user', content: 'x', attachments: [] }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: "Unknown parameter: 'attachments'." },
    })
    await expect(
      v1.beta.threads.messages.create(thread.id, { role: 'user', content: '' }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'content', code: 'string_below_min_length' },
    })
    await expect(v1.beta.threads.create({ tool_resources: {} })).rejects.toMatchObject({
      status: 400,
      error: { message: "Unknown parameter: 'tool_resources'." },
    })
  })
})

describe('message files (v1 only)', () => {
  it("lists and retrieves a message's files", async () => {
    const [a, b] = [await uploadFile(v2, 'a.txt'), await uploadFile(v2, 'b.txt')]
    const thread = await v1.beta.threads.create()
    const message: any = await v1.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'two files',
      file_ids: [a.id, b.id],
    } as never)
    const base = `/threads/${thread.id}/messages/${message.id}/files`
    const list = await rawJson(t, 'GET', base, { beta: 'assistants=v1' })
    const file = (id: string) => ({
      id,
      object: 'thread.message.file',
      created_at: message.created_at,
      message_id: message.id,
    })
    expect(list).toEqual({
      status: 200,
      body: {
        object: 'list',
        data: [file(b.id), file(a.id)],
        first_id: b.id,
        last_id: a.id,
        has_more: false,
      },
    })
    const asc = await rawJson(t, 'GET', `${base}?order=asc&limit=1`, { beta: 'assistants=v1' })
    expect(asc.body).toMatchObject({ data: [file(a.id)], has_more: true })
    expect(await rawJson(t, 'GET', `${base}/${a.id}`, { beta: 'assistants=v1' })).toEqual({
      status: 200,
      body: file(a.id),
    })
    expect(await rawJson(t, 'GET', `${base}/file-other`, { beta: 'assistants=v1' })).toMatchObject({
      status: 404,
      body: { error: { message: "No message file found with id 'file-other'." } },
    })
    expect(await rawJson(t, 'GET', base, { beta: 'assistants=v2' })).toMatchObject({
      status: 404,
      body: { error: { message: `Invalid URL (GET /v1${base})` } },
    })
    expect(await rawJson(t, 'GET', base, { beta: null })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_beta' } },
    })
  })
})
