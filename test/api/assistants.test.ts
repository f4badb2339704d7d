import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSeconds } from '../../src/storage/ids.js'
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

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
    strict: false,
  },
}

describe('assistants (v2): create, retrieve, list, modify, delete', () => {
  it('creates an assistant with every field and reads it back the same', async () => {
    const file = await uploadFile(client)
    const before = nowSeconds()
    const created = await client.beta.assistants.create({
      model: 'test-echo',
      name: 'Math Tutor',
      description: 'Helps with sums',
      instructions: 'You are a personal math tutor.',
      tools: [
        { type: 'code_interpreter' },
        {
          type: 'file_search',
          file_search: { max_num_results: 5, ranking_options: { score_threshold: 0.5 } },
        },
        weather,
      ],
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
      metadata: { team: 'math' },
      temperature: 0.7,
      top_p: 0.9,
      response_format: { type: 'json_object' },
      reasoning_effort: 'low',
    })
    expect(created).toEqual({
      id: expect.stringMatching(/^asst_[A-Za-z0-9]{20,}$/),
      object: 'assistant',
      created_at: expect.any(Number),
      name: 'Math Tutor',
      description: 'Helps with sums',
      model: 'test-echo',
      instructions: 'You are a personal math tutor.',
      tools: [
        { type: 'code_interpreter' },
        {
          type: 'file_search',
          file_search: { max_num_results: 5, ranking_options: { score_threshold: 0.5 } },
        },
        weather,
      ],
      tool_resources: { code_interpreter: { file_ids: [file.id] } },
      metadata: { team: 'math' },
      top_p: 0.9,
      temperature: 0.7,
      reasoning_effort: 'low',
      response_format: { type: 'json_object' },
    })
    expect(created.created_at).toBeGreaterThanOrEqual(before)
    expect(await client.beta.assistants.retrieve(created.id)).toEqual(created)
  })

  it("shows unset fields as OpenAI does: null, [], {}, 1, 1 and 'auto'", async () => {
    const created = await client.beta.assistants.create({ model: 'test-echo' })
    expect(created).toMatchObject({
      name: null,
      description: null,
      instructions: null,
      tools: [],
      tool_resources: {},
      metadata: {},
      temperature: 1,
      top_p: 1,
      response_format: 'auto',
    })
  })

  it('modifies only the fields given; null resets; a tool resource given replaces its list', async () => {
    const [a, b] = [await uploadFile(client, 'a.txt'), await uploadFile(client, 'b.txt')]
    const created = await client.beta.assistants.create({
      model: 'test-echo',
      name: 'Before',
      instructions: 'Old',
      tools: [{ type: 'code_interpreter' }],
      tool_resources: { code_interpreter: { file_ids: [a.id] } },
      metadata: { keep: 'no' },
      temperature: 0.2,
    })
    const modified = await client.beta.assistants.update(created.id, {
      name: 'After',
      instructions: null,
      tools: [{ type: 'code_interpreter' }, weather],
      tool_resources: { code_interpreter: { file_ids: [b.id] } },
      metadata: { now: 'yes' },
      temperature: null,
    })
    expect(modified).toEqual({
      ...created,
      name: 'After',
      instructions: null,
      tools: [{ type: 'code_interpreter' }, weather],
      tool_resources: { code_interpreter: { file_ids: [b.id] } },
      metadata: { now: 'yes' },
      temperature: 1,
    })
    expect(await client.beta.assistants.retrieve(created.id)).toEqual(modified)
    // an empty modify changes nothing
    expect(await client.beta.assistants.update(created.id, {})).toEqual(modified)
  })

  it('deletes an assistant; then it is G3', async () => {
    const created = await client.beta.assistants.create({ model: 'test-echo' })
    expect(await client.beta.assistants.delete(created.id)).toEqual({
      id: created.id,
      object: 'assistant.deleted',
      deleted: true,
    })
    const gone = {
      status: 404,
      error: {
        message: `No assistant found with id '${created.id}'.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }
    await expect(client.beta.assistants.retrieve(created.id)).rejects.toMatchObject(gone)
    await expect(client.beta.assistants.update(created.id, { name: 'x' })).rejects.toMatchObject(
      gone,
    )
    await expect(client.beta.assistants.delete(created.id)).rejects.toMatchObject(gone)
  })

  it('lists newest first by default, pages with limit/after/before, and orders asc on request', async () => {
    const t2 = await createTestApp()
    try {
      const c = t2.client()
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push((await c.beta.assistants.create({ model: 'test-echo', name: `a${i}` })).id)
      const first = await c.beta.assistants.list({ limit: 2 })
      expect(first.data.map((a) => a.id)).toEqual([ids[4], ids[3]])
      expect(first.has_more).toBe(true)
      const all: string[] = []
      for await (const a of c.beta.assistants.list({ limit: 2 })) all.push(a.id)
      expect(all).toEqual([...ids].reverse())
      const asc = await c.beta.assistants.list({ order: 'asc', after: ids[1], limit: 10 })
      expect(asc.data.map((a) => a.id)).toEqual(ids.slice(2))
      expect(asc.has_more).toBe(false)
      const before = await c.beta.assistants.list({ order: 'asc', before: ids[3], limit: 2 })
      expect(before.data.map((a) => a.id)).toEqual([ids[1], ids[2]])
      expect(before.has_more).toBe(true)
      const raw = await rawJson(t2, 'GET', '/assistants?limit=1')
      expect(raw.body).toMatchObject({
        object: 'list',
        first_id: ids[4],
        last_id: ids[4],
        has_more: true,
      })
      await expect(c.beta.assistants.list({ limit: 101 })).rejects.toMatchObject({
        status: 400,
        error: { param: 'limit', code: 'integer_above_max_value' },
      })
    } finally {
      await t2.close()
    }
  })
})

describe('assistants (v2): bad input', () => {
  it('refuses the v1 fields and tools in a v2 request', async () => {
    await expect(
      client.beta.assistants.create({ model: 'test-echo', file_ids: [] } as never),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message: "Unknown parameter: 'file_ids'.",
        param: 'file_ids',
        code: 'unknown_parameter',
      },
    })
    await expect(
      client.beta.assistants.create({
        model: 'test-echo',
        tools: [{ type: 'retrieval' }],
      } as never),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message:
          "Invalid value: 'retrieval'. Supported values are: 'code_interpreter', 'file_search', and 'function'.",
        code: 'invalid_value',
      },
    })
  })

  it("keeps the spec's tool limits: 128 on an assistant, 20 in a run's override (both versions)", async () => {
    const tools = (n: number) => Array.from({ length: n }, (_, i) => ({ ...weather, function: { ...weather.function, name: `f${i}` } }))
    const tooLong = (max: number, got: number) => ({
      message: `Invalid 'tools': array too long. Expected an array with maximum length ${max}, but got an array with length ${got} instead.`,
      type: 'invalid_request_error',
      param: 'tools',
      code: 'array_above_max_length',
    })
    for (const beta of ['assistants=v2', 'assistants=v1']) {
      const made = await rawJson(t, 'POST', '/assistants', { beta, body: { model: 'test-echo', tools: tools(128) } })
      expect([beta, made.status, made.body.tools?.length]).toEqual([beta, 200, 128])
      const id = made.body.id
      expect(await rawJson(t, 'POST', '/assistants', { beta, body: { model: 'test-echo', tools: tools(129) } })).toEqual({ status: 400, body: { error: tooLong(128, 129) } })
      expect(await rawJson(t, 'POST', `/assistants/${id}`, { beta, body: { tools: tools(129) } })).toEqual({ status: 400, body: { error: tooLong(128, 129) } })
      const thread = await rawJson(t, 'POST', '/threads', { beta, body: {} })
      // the spec's CreateRunRequest and CreateThreadAndRunRequest: maxItems 20
      expect(await rawJson(t, 'POST', `/threads/${thread.body.id}/runs`, { beta, body: { assistant_id: id, tools: tools(21) } })).toEqual({ status: 400, body: { error: tooLong(20, 21) } })
      expect(await rawJson(t, 'POST', '/threads/runs', { beta, body: { assistant_id: id, tools: tools(21) } })).toEqual({ status: 400, body: { error: tooLong(20, 21) } })
      const run = await rawJson(t, 'POST', `/threads/${thread.body.id}/runs`, { beta, body: { assistant_id: id, tools: tools(20) } })
      expect([beta, run.status, run.body.tools?.length]).toEqual([beta, 200, 20])
    }
  })

  it('wants a model the project can use', async () => {
    await expect(client.beta.assistants.create({} as never)).rejects.toMatchObject({
      status: 400,
      error: { message: "Missing required parameter: 'model'.", param: 'model' },
    })
    await expect(client.beta.assistants.create({ model: 'no-such-model' })).rejects.toMatchObject({
      status: 404,
      error: { code: 'model_not_found' },
    })
  })

  it('refuses a model that does not chat, on create and modify (every run of it failed)', async () => {
    const unsupported = {
      message: "The requested model 'test-embed' cannot be used with the Assistants API.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'unsupported_model',
    }
    const created = await rawJson(t, 'POST', '/assistants', { body: { model: 'test-embed' } })
    expect(created).toEqual({ status: 400, body: { error: unsupported } })
    const assistant = await client.beta.assistants.create({ model: 'test-echo' })
    const modified = await rawJson(t, 'POST', `/assistants/${assistant.id}`, { body: { model: 'test-embed' } })
    expect(modified).toEqual({ status: 400, body: { error: unsupported } })
    const thread = await client.beta.threads.create()
    const run = await rawJson(t, 'POST', `/threads/${thread.id}/runs`, { body: { assistant_id: assistant.id, model: 'test-embed' } })
    expect(run).toEqual({ status: 400, body: { error: unsupported } })
  })

  it('checks the files and vector stores it names, and writes nothing when one is missing', async () => {
    const before = (await client.beta.assistants.list({ limit: 100 })).data.length
    await expect(
      client.beta.assistants.create({
        model: 'test-echo',
        tool_resources: { code_interpreter: { file_ids: ['file-doesnotexist'] } },
      }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-doesnotexist', param: 'id', code: null },
    })
    await expect(
      client.beta.assistants.create({
        model: 'test-echo',
        tool_resources: { file_search: { vector_store_ids: ['vs_nope'] } },
      }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: "No vector store found with id 'vs_nope'." },
    })
    await expect(
      client.beta.assistants.create({
        model: 'test-echo',
        tool_resources: { file_search: { vector_stores: [{ file_ids: ['file-doesnotexist'] }] } },
      }),
    ).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-doesnotexist' },
    })
    expect((await client.beta.assistants.list({ limit: 100 })).data.length).toBe(before)
  })

  it('enforces the field limits of the spec', async () => {
    await expect(
      client.beta.assistants.create({ model: 'test-echo', name: 'n'.repeat(257) }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'name', code: 'string_above_max_length' },
    })
    await expect(
      client.beta.assistants.create({ model: 'test-echo', temperature: 2.5 }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'temperature' } })
    await expect(
      client.beta.assistants.create({
        model: 'test-echo',
        tool_resources: {
          code_interpreter: { file_ids: Array.from({ length: 21 }, (_, i) => `file-${i}`) },
        },
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'tool_resources.code_interpreter.file_ids', code: 'array_above_max_length' },
    })
  })

  it.each(METADATA_CASES)(
    'enforces the metadata limits on create and modify (%#)',
    async ({ metadata, error }) => {
      await expect(
        client.beta.assistants.create({ model: 'test-echo', metadata }),
      ).rejects.toMatchObject({
        status: 400,
        error,
      })
      const created = await client.beta.assistants.create({ model: 'test-echo' })
      await expect(client.beta.assistants.update(created.id, { metadata })).rejects.toMatchObject({
        status: 400,
        error,
      })
    },
  )

  it("answers an id of another kind with G5's 400", async () => {
    await expect(client.beta.assistants.retrieve('thread_abc')).rejects.toMatchObject({
      status: 400,
      error: {
        message: "Invalid 'assistant_id': 'thread_abc'. Expected an ID that begins with 'asst'.",
        param: 'assistant_id',
      },
    })
  })

  it("keeps projects apart: another project's assistant is G3", async () => {
    const mine = await client.beta.assistants.create({ model: 'test-echo', name: 'mine' })
    const other = await otherProjectClient(t)
    const notFound = { status: 404, error: { message: `No assistant found with id '${mine.id}'.` } }
    await expect(other.beta.assistants.retrieve(mine.id)).rejects.toMatchObject(notFound)
    await expect(other.beta.assistants.update(mine.id, { name: 'theirs' })).rejects.toMatchObject(
      notFound,
    )
    await expect(other.beta.assistants.delete(mine.id)).rejects.toMatchObject(notFound)
    expect((await other.beta.assistants.list()).data).toEqual([])
    // and a file of this project is not theirs to attach
    const file = await uploadFile(client)
    await expect(
      other.beta.assistants.create({
        model: 'test-echo',
        tool_resources: { code_interpreter: { file_ids: [file.id] } },
      }),
    ).rejects.toMatchObject({ status: 404, error: { message: `No such File object: ${file.id}` } })
    expect(await client.beta.assistants.retrieve(mine.id)).toEqual(mine)
  })
})

describe('the OpenAI-Beta header', () => {
  const G1 = {
    error: {
      message:
        "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_beta',
    },
  }

  it('is required: without it every Assistants route answers G1', async () => {
    for (const [method, path] of [
      ['GET', '/assistants'],
      ['POST', '/assistants'],
      ['GET', '/assistants/asst_x'],
      ['POST', '/threads'],
      ['GET', '/threads/thread_x/messages'],
      ['GET', '/assistants/asst_x/files'],
    ]) {
      const body = method === 'POST' ? { model: 'test-echo' } : undefined
      expect(await rawJson(t, method, path, { beta: null, body })).toEqual({
        status: 400,
        body: G1,
      })
    }
  })

  it('takes assistants=v2 among other betas, and refuses a version that does not exist', async () => {
    const ok = await rawJson(t, 'GET', '/assistants?limit=1', {
      beta: 'realtime=v1, assistants=v2',
    })
    expect(ok.status).toBe(200)
    expect(await rawJson(t, 'GET', '/assistants', { beta: 'realtime=v1' })).toEqual({
      status: 400,
      body: G1,
    })
    const v3 = await rawJson(t, 'GET', '/assistants', { beta: 'assistants=v3' })
    expect(v3).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', param: null, code: 'invalid_beta' } },
    })
    expect(v3.body.error.message).toContain("'assistants=v3'")
  })

  it('comes after authentication', async () => {
    const res = await t.fetch('http://plinth.test/v1/assistants')
    expect(res.status).toBe(401)
  })
})
