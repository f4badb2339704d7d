import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeResponsesUpstream, type FakeResponsesUpstream } from '../helpers/fake-responses-upstream.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// An upstream configured with `responses: true` (OpenAI) is called at its own /v1/responses:
// the request passed through with the whole conversation (Plinth keeps the state), the answer
// and its events with Plinth's response id and the public model, stored as Plinth's.

const UPSTREAM_KEY = 'sk-upstream-fake-native-responses'
let fake: FakeResponsesUpstream
let t: TestApp
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeResponsesUpstream()
  process.env.FAKE_RESPONSES_UPSTREAM_KEY = UPSTREAM_KEY
  t = await createTestApp({
    upstreams: [{ id: 'openai', baseURL: fake.baseURL, apiKeyEnv: 'FAKE_RESPONSES_UPSTREAM_KEY', responses: true }],
    models: [{ id: 'gpt-native', provider: 'openai-compatible', upstream: 'openai', upstreamModel: 'gpt-4o' }],
  })
  client = t.client()
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
})

describe('an upstream that serves /v1/responses', () => {
  it('takes a conversation: its items sent as input, never the id, and the turn appended', async () => {
    const conv = await client.conversations.create({ items: [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'noted' }] })
    const response = await client.responses.create({ model: 'gpt-native', input: 'now', conversation: conv.id })
    const request = fake.requests.at(-1)!
    expect(request.body).not.toHaveProperty('conversation')
    expect((request.body.input as { role: string }[]).map((item) => item.role)).toEqual(['user', 'assistant', 'user'])
    expect(response.conversation).toEqual({ id: conv.id })
    const items = await client.conversations.items.list(conv.id, { order: 'asc' })
    expect(items.data.map((item: any) => item.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(items.data[3].id).toBe(response.output[0].id)
  })

  it('is called there, and its answer comes back as a Plinth response, stored', async () => {
    const response = await client.responses.create({ model: 'gpt-native', input: 'hello upstream', instructions: 'Be brief.', metadata: { k: 'v' } })
    const request = fake.requests.at(-1)!
    expect(request.path).toBe('/v1/responses')
    expect(request.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    expect(request.body).toMatchObject({ model: 'gpt-4o', instructions: 'Be brief.', store: false })
    expect(request.body).not.toHaveProperty('previous_response_id')
    expect(response.id).toMatch(/^resp_/)
    expect(response.id).not.toBe('resp_upstream1')
    expect(response).toMatchObject({ model: 'gpt-native', status: 'completed', store: true, metadata: { k: 'v' } })
    expect(response.output_text).toBe('You said: hello upstream')
    expect(response.usage).toMatchObject({ input_tokens: 11, output_tokens: 4, total_tokens: 15 })
    expect(await client.responses.retrieve(response.id)).toMatchObject({ id: response.id, output: response.output })
    expect((await client.responses.inputItems.list(response.id)).data).toHaveLength(1)

    // the next turn sends the whole conversation: Plinth has the state, the upstream none
    const next = await client.responses.create({ model: 'gpt-native', input: 'and again', previous_response_id: response.id })
    expect(next.output_text).toBe('You said: and again')
    const input = fake.requests.at(-1)!.body.input as { role: string }[]
    expect(input.map((item) => item.role)).toEqual(['user', 'assistant', 'user'])
  })

  it('streams the upstream events with Plinth ids, and stores the response', async () => {
    const stream = await client.responses.create({ model: 'gpt-native', input: 'stream it', stream: true })
    const events = []
    for await (const event of stream) events.push(event)
    expect(fake.requests.at(-1)!.body.stream).toBe(true)
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(created.type).toBe('response.created')
    expect(completed.type).toBe('response.completed')
    expect(created.response.id).toBe(completed.response.id)
    expect(completed.response).toMatchObject({ model: 'gpt-native', status: 'completed' })
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')
    expect(text).toBe('You said: stream it')
    const stored = await client.responses.retrieve(completed.response.id)
    expect(stored.output_text).toBe('You said: stream it')
  })

  it("keeps the upstream's 4xx as it is, and stores nothing", async () => {
    const error = await client.responses.create({ model: 'gpt-native', input: 'refuse' }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error.message).toContain('Upstream refused this.')
  })
})
