import OpenAI from 'openai'
import type { ChatCompletion } from 'openai/resources/chat/completions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

function store(content: string, extra: Record<string, unknown> = {}): Promise<ChatCompletion> {
  return client.chat.completions.create({
    model: 'test-echo',
    messages: [{ role: 'user', content }],
    store: true,
    ...extra,
  })
}

describe('stored chat completions', () => {
  it('retrieves a stored completion as it was answered, with its metadata', async () => {
    const { data: created, request_id } = await client.chat.completions
      .create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'remember me' }],
        store: true,
        metadata: { topic: 'memory', run: '1' },
        temperature: 0.5,
        seed: 7,
        user: 'someone',
      })
      .withResponse()
    const got = await client.chat.completions.retrieve(created.id)
    expect(got.id).toBe(created.id)
    expect(got.object).toBe('chat.completion')
    expect(got.model).toBe('test-echo')
    expect(got.created).toBe(created.created)
    expect(got.choices).toEqual(created.choices)
    expect(got.usage).toEqual(created.usage)
    // OpenAI's stored object also echoes the request's settings
    expect(got).toMatchObject({
      metadata: { topic: 'memory', run: '1' },
      request_id,
      temperature: 0.5,
      seed: 7,
      top_p: null,
      input_user: 'someone',
      tools: null,
      tool_choice: null,
      response_format: null,
    })
  })

  it('is not stored without store: true (or with store: false)', async () => {
    const plain = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'forget me' }],
    })
    const off = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'forget me too' }],
      store: false,
    })
    for (const id of [plain.id, off.id]) {
      const error = await client.chat.completions.retrieve(id).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    }
  })

  it('stores streamed answers too, with the streamed id', async () => {
    const stream = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'streamed and stored' }],
      store: true,
      stream: true,
    })
    let id = ''
    for await (const chunk of stream) id = chunk.id
    const got = await client.chat.completions.retrieve(id)
    expect(got.choices[0].message.content).toBe('streamed and stored')
    expect(got.choices[0].finish_reason).toBe('stop')
    expect(got.usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('updates metadata, deletes, then answers 404', async () => {
    const created = await store('to be changed', { metadata: { a: '1' } })
    const updated = await client.chat.completions.update(created.id, { metadata: { b: '2' } })
    expect(updated.id).toBe(created.id)
    expect((updated as unknown as { metadata: unknown }).metadata).toEqual({ b: '2' })
    const again = await client.chat.completions.retrieve(created.id)
    expect((again as unknown as { metadata: unknown }).metadata).toEqual({ b: '2' })

    const deleted = await client.chat.completions.delete(created.id)
    expect(deleted).toEqual({ object: 'chat.completion.deleted', id: created.id, deleted: true })
    const error = await client.chat.completions.retrieve(created.id).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error).toEqual({
      message: `No chat completion found with id '${created.id}'.`,
      type: 'invalid_request_error',
      param: 'completion_id',
      code: null,
    })
    for (const call of [
      () => client.chat.completions.delete(created.id),
      () => client.chat.completions.update(created.id, { metadata: {} }),
      () => client.chat.completions.messages.list(created.id),
    ]) {
      expect((await call().catch((e) => e)).status).toBe(404)
    }
  })

  it('lists the input messages with ids, in order, paginated', async () => {
    const created = await client.chat.completions.create({
      model: 'test-echo',
      store: true,
      messages: [
        { role: 'system', content: 'be nice' },
        { role: 'user', content: 'first', name: 'alice' },
        { role: 'assistant', content: 'ok' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look at ' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'text', text: 'this' },
          ],
        },
      ],
    })
    const page = await client.chat.completions.messages.list(created.id)
    expect(page.data.map((m) => [m.id, m.role, m.content])).toEqual([
      [`${created.id}-0`, 'system', 'be nice'],
      [`${created.id}-1`, 'user', 'first'],
      [`${created.id}-2`, 'assistant', 'ok'],
      [`${created.id}-3`, 'user', 'look at this'],
    ])
    expect(page.has_more).toBe(false)
    const raw = page.data as unknown as Record<string, unknown>[]
    expect(raw[1].name).toBe('alice')
    expect(raw[3].content_parts).toHaveLength(3)
    expect(raw[0].content_parts).toBeNull()
    for (const message of raw) expect(message).toHaveProperty('refusal', null)

    const desc = await client.chat.completions.messages.list(created.id, {
      order: 'desc',
      limit: 2,
    })
    expect(desc.data.map((m) => m.id)).toEqual([`${created.id}-3`, `${created.id}-2`])
    expect(desc.has_more).toBe(true)
    const all: string[] = []
    for await (const message of client.chat.completions.messages.list(created.id, { limit: 1 }))
      all.push(message.id)
    expect(all).toEqual([0, 1, 2, 3].map((i) => `${created.id}-${i}`))
  })
})

describe('listing stored chat completions', () => {
  let ids: string[] = []
  let scoped: OpenAI

  beforeAll(async () => {
    // a project of its own, so other tests' rows do not show up in these lists
    scoped = await otherProjectClient(t)
    ids = []
    for (let i = 0; i < 7; i++) {
      const completion = await scoped.chat.completions.create({
        model: i % 2 ? 'test-scripted' : 'test-echo',
        messages: [{ role: 'user', content: `number ${i}` }],
        store: true,
        metadata: { parity: i % 2 ? 'odd' : 'even', index: String(i) },
      })
      ids.push(completion.id)
    }
  })

  it('lists oldest first by default, newest first with order desc', async () => {
    const asc = await scoped.chat.completions.list()
    expect(asc.data.map((c) => c.id)).toEqual(ids)
    expect(asc.has_more).toBe(false)
    const raw = await (await scoped.chat.completions.list({ limit: 2 }).asResponse()).json()
    expect(raw).toMatchObject({ object: 'list', first_id: ids[0], last_id: ids[1], has_more: true })
    const empty = await (await scoped.chat.completions.list({ after: ids[6] }).asResponse()).json()
    expect(empty).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    })
    const desc = await scoped.chat.completions.list({ order: 'desc' })
    expect(desc.data.map((c) => c.id)).toEqual([...ids].reverse())
  })

  it('pages with limit and after, and the SDK auto-paginates', async () => {
    const first = await scoped.chat.completions.list({ limit: 3 })
    expect(first.data.map((c) => c.id)).toEqual(ids.slice(0, 3))
    expect(first.has_more).toBe(true)
    const second = await scoped.chat.completions.list({ limit: 3, after: ids[2] })
    expect(second.data.map((c) => c.id)).toEqual(ids.slice(3, 6))
    const next = await first.getNextPage()
    expect(next.data.map((c) => c.id)).toEqual(ids.slice(3, 6))
    const last = await scoped.chat.completions.list({ limit: 3, after: ids[5] })
    expect(last.data.map((c) => c.id)).toEqual([ids[6]])
    expect(last.has_more).toBe(false)
    const exact = await scoped.chat.completions.list({ limit: 7 })
    expect(exact.has_more).toBe(false)

    const all: string[] = []
    for await (const completion of scoped.chat.completions.list({ limit: 2 }))
      all.push(completion.id)
    expect(all).toEqual(ids)
    const descending: string[] = []
    for await (const completion of scoped.chat.completions.list({ limit: 2, order: 'desc' }))
      descending.push(completion.id)
    expect(descending).toEqual([...ids].reverse())
  })

  it('filters by model and by metadata', async () => {
    const scripted = await scoped.chat.completions.list({ model: 'test-scripted' })
    expect(scripted.data.map((c) => c.id)).toEqual([ids[1], ids[3], ids[5]])
    const even = await scoped.chat.completions.list({ metadata: { parity: 'even' } })
    expect(even.data.map((c) => c.id)).toEqual([ids[0], ids[2], ids[4], ids[6]])
    const both = await scoped.chat.completions.list({ metadata: { parity: 'even', index: '4' } })
    expect(both.data.map((c) => c.id)).toEqual([ids[4]])
    const none = await scoped.chat.completions.list({ metadata: { parity: 'prime' } })
    expect(none.data).toEqual([])
    expect(none.has_more).toBe(false)

    const paged: string[] = []
    for await (const completion of scoped.chat.completions.list({
      metadata: { parity: 'odd' },
      limit: 1,
    })) {
      paged.push(completion.id)
    }
    expect(paged).toEqual([ids[1], ids[3], ids[5]])
    const firstOdd = await scoped.chat.completions.list({ metadata: { parity: 'odd' }, limit: 3 })
    expect(firstOdd.has_more).toBe(false)
  })

  it("keeps each project's completions to itself", async () => {
    const mine = await client.chat.completions.list({ limit: 100 })
    for (const id of ids) expect(mine.data.map((c) => c.id)).not.toContain(id)
    for (const call of [
      () => client.chat.completions.retrieve(ids[0]),
      () => client.chat.completions.update(ids[0], { metadata: { x: 'y' } }),
      () => client.chat.completions.delete(ids[0]),
      () => client.chat.completions.messages.list(ids[0]),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    }
    // still there for its owner
    expect((await scoped.chat.completions.retrieve(ids[0])).id).toBe(ids[0])
  })

  it('rejects bad list queries with 400', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'order=sideways', 'colour=red']) {
      const response = await t.fetch(`http://plinth.test/v1/chat/completions?${query}`, {
        headers: { authorization: `Bearer ${t.ctx.config.bootstrap.projectKey}` },
      })
      expect(response.status, query).toBe(400)
    }
  })
})
