import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
}

async function collect(stream: AsyncIterable<{ type: string; sequence_number: number }>) {
  const events: any[] = []
  for await (const event of stream) events.push(event)
  return events
}

describe('streamed responses', () => {
  it('streams the full event family in order, numbered', async () => {
    const events = await collect(await client.responses.create({ model: 'test-echo', input: 'stream these four words', stream: true }))
    const types = events.map((e) => e.type)
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'])
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed'])
    expect(types.filter((t) => t === 'response.output_text.delta').length).toBeGreaterThan(1)
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')
    expect(deltas).toBe('stream these four words')
    const done = events.at(-1).response
    expect(done.status).toBe('completed')
    expect(done.output[0].content[0]).toEqual({ type: 'output_text', text: 'stream these four words', annotations: [], logprobs: [] })
    expect(done.usage.output_tokens).toBeGreaterThan(0)
    expect(events[0].response).toMatchObject({ status: 'in_progress', output: [] })
    expect(events[0].response).not.toHaveProperty('usage')
    // stored as it was streamed
    const got = await client.responses.retrieve(done.id)
    expect(got.output).toEqual(done.output)
    expect(got.status).toBe('completed')
  })

  it('streams function calls with argument deltas', async () => {
    const events = await collect(await client.responses.create({ model: 'test-scripted', input: 'what is the weather in Paris?', tools: [weatherTool], stream: true }))
    const added = events.find((e) => e.type === 'response.output_item.added')
    expect(added.item).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '', status: 'in_progress' })
    const args = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('')
    const done = events.find((e) => e.type === 'response.function_call_arguments.done')
    expect(done.arguments).toBe(args)
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(events.at(-1).response.output[0]).toMatchObject({ type: 'function_call', call_id: added.item.call_id, status: 'completed' })
  })

  it('works with the SDK stream helper (responses.stream), snapshots and final response', async () => {
    const stream = client.responses.stream({ model: 'test-scripted', input: 'hello there' })
    const snapshots: string[] = []
    stream.on('response.output_text.delta', (event) => snapshots.push(event.snapshot))
    const final = await stream.finalResponse()
    expect(final.output_text).toBe('Hello! How can I help you today?')
    expect(snapshots.at(-1)).toBe(final.output_text)
  })

  it('ends incomplete at max_output_tokens', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')
    const events = await collect(await client.responses.create({ model: 'test-echo', input: long, max_output_tokens: 16, stream: true }))
    const last = events.at(-1)
    expect(last.type).toBe('response.incomplete')
    expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(events.find((e) => e.type === 'response.output_item.done').item.status).toBe('incomplete')
  })

  it('fails mid-stream with an error event and response.failed, stored as failed', async () => {
    const events = await collect(await client.responses.create({ model: 'test-scripted', input: 'please fail midway', stream: true }))
    const types = events.map((e) => e.type)
    expect(types.slice(-2)).toEqual(['error', 'response.failed'])
    expect(events.at(-2)).toMatchObject({ code: 'server_error', message: 'Scripted failure after two chunks', param: null })
    const failed = events.at(-1).response
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'Scripted failure after two chunks' } })
    expect((await client.responses.retrieve(failed.id)).status).toBe('failed')
  })

  it('answers a failure before any output as a plain HTTP error', async () => {
    const error = await client.responses.create({ model: 'test-scripted', input: 'fail with 429', stream: true }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
  })

  it('completes and stores a streamed response whose client went away', async () => {
    const res = await t.fetch(`${t.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-scripted', input: 'go slowly', stream: true }),
    })
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('response.output_text.delta')) text += new TextDecoder().decode((await reader.read()).value)
    const id = /"id":"(resp_[^"]+)"/.exec(text)![1]
    await reader.cancel()
    // 26 letters at 50 ms a chunk: the generation goes on without its client
    let stored: any
    for (let i = 0; i < 60 && !stored; i++) {
      await new Promise((r) => setTimeout(r, 100))
      stored = await client.responses.retrieve(id).catch(() => undefined)
    }
    expect(stored.status).toBe('completed')
    expect(stored.output_text).toBe('a b c d e f g h i j k l m n o p q r s t u v w x y z')
  })
})
