import OpenAI from 'openai'
import type { Conversation, ConversationDeletedResource } from 'openai/resources/conversations/conversations'
import type { ConversationItem, ConversationItemList } from 'openai/resources/conversations/items'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otherProjectClient } from '../helpers/other-project.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The Conversations API is newer than the spec file Plinth follows, so no spec schema checks
// these answers: each is typed by SDK 6's types (the declarations below fail to compile if a
// shape drifts from them) and checked here key by key.

const cases = storageCases()
if (cases.length === 1) skippedPgCase('conversations on PostgreSQL')

/** Exactly these keys, each of this typeof (null where the value is null). */
function expectShape(value: unknown, shape: Record<string, string>) {
  const object = value as Record<string, unknown>
  expect(Object.keys(object).sort()).toEqual(Object.keys(shape).sort())
  for (const [key, type] of Object.entries(shape)) expect([key, object[key] === null ? 'null' : typeof object[key]]).toEqual([key, type])
}

const CONVERSATION = { id: 'string', object: 'string', created_at: 'number', metadata: 'object' }
const LIST = { object: 'string', data: 'object', first_id: 'string', last_id: 'string', has_more: 'boolean' }
const MESSAGE = { id: 'string', type: 'string', role: 'string', status: 'string', content: 'object' }

const notFound = (id: string) => ({ message: `Conversation with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null })

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
}

describe.each(cases)('conversations on $name', ({ create }) => {
  let t: TestApp
  let client: OpenAI
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('conversations')
    cleanup = made.cleanup
    t = await createTestApp({}, { storage: made.config })
    client = t.client()
    t.ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  describe('conversations', () => {
    it('creates with items and metadata, retrieves, updates and deletes', async () => {
      const created: Conversation = await client.conversations.create({
        metadata: { topic: 'demo' },
        items: [
          { type: 'message', role: 'user', content: 'Hello!' },
          { role: 'assistant', content: 'Hi there' },
        ],
      })
      expectShape(created, CONVERSATION)
      expect(created.id).toMatch(/^conv_/)
      expect(created.object).toBe('conversation')
      expect(created.metadata).toEqual({ topic: 'demo' })
      expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(60)

      const got: Conversation = await client.conversations.retrieve(created.id)
      expect(got).toEqual(created)

      const updated: Conversation = await client.conversations.update(created.id, { metadata: { topic: 'other', more: 'x' } })
      expectShape(updated, CONVERSATION)
      expect(updated).toEqual({ ...created, metadata: { topic: 'other', more: 'x' } })
      expect((await client.conversations.retrieve(created.id)).metadata).toEqual({ topic: 'other', more: 'x' })

      const deleted: ConversationDeletedResource = await client.conversations.delete(created.id)
      expectShape(deleted, { id: 'string', object: 'string', deleted: 'boolean' })
      expect(deleted).toEqual({ id: created.id, object: 'conversation.deleted', deleted: true })
      const error = await client.conversations.retrieve(created.id).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error).toEqual(notFound(created.id))
      const items = await client.conversations.items.list(created.id).catch((e) => e)
      expect(items).toBeInstanceOf(OpenAI.NotFoundError)
    })

    it('creates an empty one with no body fields: empty metadata, no items', async () => {
      const created = await client.conversations.create()
      expect(created.metadata).toEqual({})
      const items = listBody(await client.conversations.items.list(created.id))
      expect(items).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false })
    })

    it('answers 404 with the id for an unknown conversation on every route', async () => {
      const id = 'conv_missing'
      const calls = [
        () => client.conversations.retrieve(id),
        () => client.conversations.update(id, { metadata: { a: 'b' } }),
        () => client.conversations.delete(id),
        () => client.conversations.items.list(id),
        () => client.conversations.items.create(id, { items: [{ role: 'user', content: 'x' }] }),
        () => client.conversations.items.retrieve('msg_x', { conversation_id: id }),
        () => client.conversations.items.delete('msg_x', { conversation_id: id }),
      ]
      for (const call of calls) {
        const error = await call().catch((e) => e)
        expect(error).toBeInstanceOf(OpenAI.NotFoundError)
        expect(error.error).toEqual(notFound(id))
      }
    })

    it('refuses bad bodies with a 400 naming the parameter', async () => {
      const tooMany = await client.conversations
        .create({ items: Array.from({ length: 21 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })) })
        .catch((e) => e)
      expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError)
      expect(tooMany.error).toMatchObject({ type: 'invalid_request_error', param: 'items' })
      const unknown = await client.conversations.create({ title: 'x' } as never).catch((e) => e)
      expect(unknown).toBeInstanceOf(OpenAI.BadRequestError)
      expect(unknown.error).toMatchObject({ message: "Unknown parameter: 'title'.", param: 'title', code: 'unknown_parameter' })
      const badMetadata = await client.conversations.create({ metadata: { k: 'v'.repeat(513) } }).catch((e) => e)
      expect(badMetadata).toBeInstanceOf(OpenAI.BadRequestError)
      const badPart = await client.conversations
        .create({ items: [{ role: 'user', content: [{ type: 'output_text', text: 'x' } as never] }] })
        .catch((e) => e)
      expect(badPart).toBeInstanceOf(OpenAI.BadRequestError)
      expect(badPart.error.param).toBe('items[0].content[0]')
      const { id } = await client.conversations.create()
      const noItems = await client.conversations.items.create(id, {} as never).catch((e) => e)
      expect(noItems).toBeInstanceOf(OpenAI.BadRequestError)
      expect(noItems.error.param).toBe('items')
      const missingRef = await client.conversations.items.create(id, { items: [{ type: 'item_reference', id: 'msg_nope' }] }).catch((e) => e)
      expect(missingRef).toBeInstanceOf(OpenAI.NotFoundError)
      expect(missingRef.error).toEqual({ message: "Item with id 'msg_nope' not found.", type: 'invalid_request_error', param: 'items[0].id', code: null })
      const updateWithout = await client.conversations.update(id, {} as never).catch((e) => e)
      expect(updateWithout).toBeInstanceOf(OpenAI.BadRequestError)
      expect(updateWithout.error.param).toBe('metadata')
    })
  })

  describe('items', () => {
    it('lists newest first by default, pages with after and limit, and in order asc', async () => {
      const conv = await client.conversations.create({ items: ['one', 'two', 'three'].map((text) => ({ role: 'user' as const, content: text })) })
      const page = await client.conversations.items.list(conv.id, { limit: 2 })
      const body = listBody(page)
      expectShape(body, LIST)
      expect(page.data.map(text)).toEqual(['three', 'two'])
      expect(page.has_more).toBe(true)
      expect(body.first_id).toBe(page.data[0].id)
      expect(body.last_id).toBe(page.data[1].id)
      const next = await client.conversations.items.list(conv.id, { limit: 2, after: page.data[1].id })
      expect(next.data.map(text)).toEqual(['one'])
      expect(next.has_more).toBe(false)
      const asc = await client.conversations.items.list(conv.id, { order: 'asc' })
      expect(asc.data.map(text)).toEqual(['one', 'two', 'three'])
      // the SDK's auto-pagination follows last_id
      const all: ConversationItem[] = []
      for await (const item of client.conversations.items.list(conv.id, { limit: 1, order: 'asc' })) all.push(item)
      expect(all.map(text)).toEqual(['one', 'two', 'three'])
      for (const item of all) {
        expectShape(item, MESSAGE)
        expect(item).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: text(item) }] })
        expect(item.id).toMatch(/^msg_/)
      }

      const badAfter = await client.conversations.items.list(conv.id, { after: 'msg_unknown' }).catch((e) => e)
      expect(badAfter).toBeInstanceOf(OpenAI.NotFoundError)
      expect(badAfter.error).toEqual({ message: "Item with id 'msg_unknown' not found.", type: 'invalid_request_error', param: 'after', code: null })
      const badLimit = await client.conversations.items.list(conv.id, { limit: 101 }).catch((e) => e)
      expect(badLimit).toBeInstanceOf(OpenAI.BadRequestError)
      expect(badLimit.error.param).toBe('limit')
      const badOrder = await client.conversations.items.list(conv.id, { order: 'sideways' as never }).catch((e) => e)
      expect(badOrder).toBeInstanceOf(OpenAI.BadRequestError)
    })

    it('adds items after the last, retrieves one and deletes one (answering the conversation)', async () => {
      const conv = await client.conversations.create({ items: [{ role: 'user', content: 'first' }] })
      const added: ConversationItemList = await client.conversations.items.create(conv.id, {
        items: [
          { role: 'assistant', content: 'second' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
        ],
      })
      expectShape(added, LIST)
      expect(added.has_more).toBe(false)
      expect(added.data.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output'])
      expect(added.first_id).toBe(added.data[0].id)
      expect(added.last_id).toBe(added.data[2].id)
      expect(added.data[0]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'second', annotations: [] }] })
      expectShape(added.data[1], { id: 'string', type: 'string', call_id: 'string', name: 'string', arguments: 'string', status: 'string' })
      expect(added.data[1].id).toMatch(/^fc_/)
      expectShape(added.data[2], { id: 'string', type: 'string', call_id: 'string', output: 'string', status: 'string' })

      const asc = await client.conversations.items.list(conv.id, { order: 'asc' })
      expect(asc.data.map((i) => i.type)).toEqual(['message', 'message', 'function_call', 'function_call_output'])

      const one: ConversationItem = await client.conversations.items.retrieve(added.data[1].id!, { conversation_id: conv.id })
      expect(one).toEqual(added.data[1])

      const after: Conversation = await client.conversations.items.delete(added.data[0].id!, { conversation_id: conv.id })
      expectShape(after, CONVERSATION)
      expect(after).toEqual(conv)
      const gone = await client.conversations.items.retrieve(added.data[0].id!, { conversation_id: conv.id }).catch((e) => e)
      expect(gone).toBeInstanceOf(OpenAI.NotFoundError)
      expect(gone.error).toEqual({ message: `Item with id '${added.data[0].id}' not found.`, type: 'invalid_request_error', param: 'item_id', code: null })
      const again = await client.conversations.items.delete(added.data[0].id!, { conversation_id: conv.id }).catch((e) => e)
      expect(again).toBeInstanceOf(OpenAI.NotFoundError)
      expect((await client.conversations.items.list(conv.id)).data).toHaveLength(3)

      // an item of another conversation is not this one's
      const other = await client.conversations.create()
      const elsewhere = await client.conversations.items.retrieve(added.data[1].id!, { conversation_id: other.id }).catch((e) => e)
      expect(elsewhere).toBeInstanceOf(OpenAI.NotFoundError)
    })

    it('shows image URLs only when include asks for them', async () => {
      const url = 'https://example.com/cat.png'
      const conv = await client.conversations.create({
        items: [{ role: 'user', content: [{ type: 'input_image', image_url: url, detail: 'low' }] }],
      })
      const plain = await client.conversations.items.list(conv.id)
      expect((plain.data[0] as any).content[0]).toEqual({ type: 'input_image', image_url: null, file_id: null, detail: 'low' })
      const shown = await client.conversations.items.list(conv.id, { include: ['message.input_image.image_url'] })
      expect((shown.data[0] as any).content[0].image_url).toBe(url)
      const one = await client.conversations.items.retrieve(plain.data[0].id!, { conversation_id: conv.id, include: ['message.input_image.image_url'] })
      expect((one as any).content[0].image_url).toBe(url)
      const added = await client.conversations.items.create(conv.id, { items: [{ role: 'user', content: [{ type: 'input_image', image_url: url, detail: 'auto' }] }] })
      expect((added.data[0] as any).content[0].image_url).toBeNull()
      // every value SDK 6 types is taken; one it does not is a 400
      const web = await client.conversations.items.list(conv.id, { include: ['web_search_call.action.sources', 'web_search_call.results'] })
      expect(web.data).toHaveLength(2)
      const bad = await client.conversations.items.list(conv.id, { include: ['nope' as never] }).catch((e) => e)
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
      expect(bad.error.param).toBe('include')
    })
  })

  describe('isolation', () => {
    it("is another project's: 404 on every route, and not a response's conversation", async () => {
      const conv = await client.conversations.create({ items: [{ role: 'user', content: 'mine' }] })
      const [item] = (await client.conversations.items.list(conv.id)).data
      const other = await otherProjectClient(t)
      const calls = [
        () => other.conversations.retrieve(conv.id),
        () => other.conversations.update(conv.id, { metadata: {} }),
        () => other.conversations.delete(conv.id),
        () => other.conversations.items.list(conv.id),
        () => other.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'x' }] }),
        () => other.conversations.items.retrieve(item.id!, { conversation_id: conv.id }),
        () => other.conversations.items.delete(item.id!, { conversation_id: conv.id }),
        () => other.responses.create({ model: 'test-echo', input: 'x', conversation: conv.id }),
      ]
      for (const call of calls) {
        const error = await call().catch((e) => e)
        expect(error).toBeInstanceOf(OpenAI.NotFoundError)
        expect(error.error).toEqual(notFound(conv.id))
      }
      // nothing changed
      expect((await client.conversations.items.list(conv.id)).data).toEqual([item])
    })
  })

  describe('responses with a conversation', () => {
    it('reads the conversation as history and appends each turn (multi-turn)', async () => {
      const conv = await client.conversations.create({ items: [{ role: 'developer', content: 'Be brief.' }] })
      const first = await client.responses.create({ model: 'test-echo', input: 'first turn', conversation: conv.id })
      expect(first.output_text).toBe('first turn')
      expect(first.conversation).toEqual({ id: conv.id })
      expect(first.previous_response_id).toBeNull()
      // the echo repeats the last user message: with no user message in the input, the second
      // turn can only answer with the first turn's, read from the conversation
      const second = await client.responses.create({ model: 'test-echo', input: [{ role: 'developer', content: 'again' }], conversation: { id: conv.id } })
      expect(second.output_text).toBe('first turn')
      expect(second.conversation).toEqual({ id: conv.id })
      expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens)

      const items = await client.conversations.items.list(conv.id, { order: 'asc' })
      expect(items.data.map((i: any) => [i.role, i.content[0].text])).toEqual([
        ['developer', 'Be brief.'],
        ['user', 'first turn'],
        ['assistant', 'first turn'],
        ['developer', 'again'],
        ['assistant', 'first turn'],
      ])
      // the items are the responses' own: same ids
      expect(items.data[2].id).toBe(first.output[0].id)
      const firstInput = await client.responses.inputItems.list(first.id)
      expect(items.data[1]).toEqual(firstInput.data[0])
      expect((await client.responses.retrieve(second.id)).conversation).toEqual({ id: conv.id })
    })

    it('pairs a function call of an earlier turn with its output in the next', async () => {
      const conv = await client.conversations.create()
      const first = await client.responses.create({ model: 'test-scripted', input: 'what is the weather in Paris?', tools: [weatherTool], conversation: conv.id })
      const call = first.output.find((item) => item.type === 'function_call') as any
      const second = await client.responses.create({
        model: 'test-scripted',
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' }],
        tools: [weatherTool],
        conversation: conv.id,
      })
      expect(second.output_text).toBe('Tool results: get_weather: {"temperature":21}')
      const types = (await client.conversations.items.list(conv.id, { order: 'asc' })).data.map((i) => i.type)
      expect(types).toEqual(['message', 'function_call', 'function_call_output', 'message'])
    })

    it('appends streamed and background responses when they end', async () => {
      const conv = await client.conversations.create()
      const streamed = await client.responses.stream({ model: 'test-echo', input: 'streamed turn', conversation: conv.id }).finalResponse()
      expect(streamed.conversation).toEqual({ id: conv.id })
      let background = await client.responses.create({ model: 'test-echo', input: 'background turn', conversation: conv.id, background: true })
      expect(background.status).toBe('queued')
      for (let i = 0; i < 200 && ['queued', 'in_progress'].includes(background.status ?? ''); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25))
        background = await client.responses.retrieve(background.id)
      }
      expect(background.status).toBe('completed')
      expect(background.conversation).toEqual({ id: conv.id })
      const texts = (await client.conversations.items.list(conv.id, { order: 'asc' })).data.map((i: any) => [i.role, i.content[0].text])
      expect(texts).toEqual([
        ['user', 'streamed turn'],
        ['assistant', 'streamed turn'],
        ['user', 'background turn'],
        ['assistant', 'background turn'],
      ])
    })

    it('adds nothing for a response that failed', async () => {
      const conv = await client.conversations.create()
      const stream = await client.responses.create({ model: 'test-scripted', input: 'fail midway', conversation: conv.id, stream: true })
      let last: any
      for await (const event of stream) last = event
      expect(last.type).toBe('response.failed')
      expect(last.response.conversation).toEqual({ id: conv.id })
      const refused = await client.responses.create({ model: 'test-scripted', input: 'fail with 429', conversation: conv.id }).catch((e) => e)
      expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
      expect((await client.conversations.items.list(conv.id)).data).toEqual([])
    })

    it('keeps nothing with store: false (the conversation is read, not extended)', async () => {
      const conv = await client.conversations.create({ items: [{ role: 'user', content: 'earlier' }] })
      const response = await client.responses.create({ model: 'test-echo', input: [{ role: 'developer', content: 'x' }], conversation: conv.id, store: false })
      expect(response.output_text).toBe('earlier')
      expect(response.conversation).toEqual({ id: conv.id })
      expect((await client.conversations.items.list(conv.id)).data).toHaveLength(1)
    })

    it('refuses conversation with previous_response_id, and an unknown conversation', async () => {
      const conv = await client.conversations.create()
      const earlier = await client.responses.create({ model: 'test-echo', input: 'x' })
      const both = await client.responses.create({ model: 'test-echo', input: 'y', conversation: conv.id, previous_response_id: earlier.id }).catch((e) => e)
      expect(both).toBeInstanceOf(OpenAI.BadRequestError)
      expect(both.error).toEqual({
        message: "Mutually exclusive parameters. Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
        type: 'invalid_request_error',
        param: null,
        code: 'mutually_exclusive_parameters',
      })
      const streamed = await client.responses.create({ model: 'test-echo', input: 'y', conversation: conv.id, previous_response_id: earlier.id, stream: true }).catch((e) => e)
      expect(streamed).toBeInstanceOf(OpenAI.BadRequestError)
      const background = await client.responses.create({ model: 'test-echo', input: 'y', conversation: conv.id, previous_response_id: earlier.id, background: true }).catch((e) => e)
      expect(background).toBeInstanceOf(OpenAI.BadRequestError)
      const missing = await client.responses.create({ model: 'test-echo', input: 'y', conversation: 'conv_nope' }).catch((e) => e)
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
      expect(missing.error).toEqual(notFound('conv_nope'))
      const badShape = await client.responses.create({ model: 'test-echo', input: 'y', conversation: { id: conv.id, x: 1 } as never }).catch((e) => e)
      expect(badShape).toBeInstanceOf(OpenAI.BadRequestError)
      // nothing was added by the refused requests
      expect((await client.conversations.items.list(conv.id)).data).toEqual([])
    })

    it('finds a conversation item by item_reference', async () => {
      const conv = await client.conversations.create({ items: [{ role: 'user', content: 'referenced text' }] })
      const [item] = (await client.conversations.items.list(conv.id)).data
      const response = await client.responses.create({ model: 'test-echo', input: [{ type: 'item_reference', id: item.id! }] })
      expect(response.output_text).toBe('referenced text')
    })
  })

  describe('POST /v1/responses/input_tokens', () => {
    it('counts what a response would be charged for its input', async () => {
      const params = { model: 'test-echo', input: 'How many tokens is this?', instructions: 'Answer briefly.' }
      const counted = await client.responses.inputTokens.count(params)
      expectShape(counted, { object: 'string', input_tokens: 'number' })
      expect(counted.object).toBe('response.input_tokens')
      const response = await client.responses.create(params)
      expect(counted.input_tokens).toBe(response.usage!.input_tokens)
    })

    it('counts a conversation, a previous response and tools', async () => {
      const conv = await client.conversations.create({ items: [{ role: 'user', content: 'a long earlier message in the conversation' }] })
      const alone = await client.responses.inputTokens.count({ model: 'test-echo', input: 'next' })
      const withConversation = await client.responses.inputTokens.count({ model: 'test-echo', input: 'next', conversation: conv.id })
      expect(withConversation.input_tokens).toBeGreaterThan(alone.input_tokens)
      const turn = await client.responses.create({ model: 'test-echo', input: 'next', conversation: conv.id })
      expect(withConversation.input_tokens).toBe(turn.usage!.input_tokens)

      const previous = await client.responses.create({ model: 'test-echo', input: 'an earlier turn' })
      const withPrevious = await client.responses.inputTokens.count({ model: 'test-echo', input: 'next', previous_response_id: previous.id })
      expect(withPrevious.input_tokens).toBeGreaterThan(alone.input_tokens)
      const withTools = await client.responses.inputTokens.count({ model: 'test-scripted', input: 'next', tools: [weatherTool] })
      expect(withTools.input_tokens).toBeGreaterThan(alone.input_tokens)
      const empty = await client.responses.inputTokens.count()
      expect(empty.input_tokens).toBeGreaterThanOrEqual(0)
    })

    it('refuses what responses.create refuses', async () => {
      const conv = await client.conversations.create()
      const unknownConv = await client.responses.inputTokens.count({ model: 'test-echo', input: 'x', conversation: 'conv_nope' }).catch((e) => e)
      expect(unknownConv).toBeInstanceOf(OpenAI.NotFoundError)
      expect(unknownConv.error).toEqual(notFound('conv_nope'))
      const both = await client.responses.inputTokens.count({ input: 'x', conversation: conv.id, previous_response_id: 'resp_x' }).catch((e) => e)
      expect(both).toBeInstanceOf(OpenAI.BadRequestError)
      expect(both.error.code).toBe('mutually_exclusive_parameters')
      const previous = await client.responses.inputTokens.count({ input: 'x', previous_response_id: 'resp_nope' }).catch((e) => e)
      expect(previous).toBeInstanceOf(OpenAI.BadRequestError)
      expect(previous.error.code).toBe('previous_response_not_found')
      const model = await client.responses.inputTokens.count({ model: 'no-such-model', input: 'x' }).catch((e) => e)
      expect(model).toBeInstanceOf(OpenAI.NotFoundError)
      const unknown = await client.responses.inputTokens.count({ input: 'x', stream: true } as never).catch((e) => e)
      expect(unknown).toBeInstanceOf(OpenAI.BadRequestError)
      expect(unknown.error.code).toBe('unknown_parameter')
      const other = await otherProjectClient(t)
      const isolated = await other.responses.inputTokens.count({ input: 'x', conversation: conv.id }).catch((e) => e)
      expect(isolated).toBeInstanceOf(OpenAI.NotFoundError)
    })
  })
})

/** The list's body as it came (the SDK's page object keeps it): SDK 6's ConversationItemList. */
function listBody(page: unknown): ConversationItemList {
  return (page as { body: ConversationItemList }).body
}

function text(item: ConversationItem): string {
  return ((item as { content: { text: string }[] }).content[0] as { text: string }).text
}
