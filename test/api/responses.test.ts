import OpenAI from 'openai'
import { zodTextFormat } from 'openai/helpers/zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

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
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
}

describe('POST /v1/responses', () => {
  it('answers a string input with a message, output_text and usage', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'Hello there, echo' })
    expect(response.object).toBe('response')
    expect(response.id).toMatch(/^resp_/)
    expect(response.status).toBe('completed')
    expect(response.output_text).toBe('Hello there, echo')
    expect(response.output).toHaveLength(1)
    const [message] = response.output
    expect(message).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' })
    expect((message as any).id).toMatch(/^msg_/)
    // OpenAI's output_text has its logprobs, empty unless `include` asks for them
    expect((message as any).content).toEqual([{ type: 'output_text', text: 'Hello there, echo', annotations: [], logprobs: [] }])
    expect(response.usage).toMatchObject({
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    })
    expect(response.usage!.output_tokens).toBeGreaterThan(0)
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens)
    expect(response).toMatchObject({
      error: null,
      incomplete_details: null,
      instructions: null,
      parallel_tool_calls: true,
      previous_response_id: null,
      store: true,
      temperature: 1,
      top_p: 1,
      tool_choice: 'auto',
      tools: [],
      truncation: 'disabled',
      text: { format: { type: 'text' } },
      metadata: {},
      // newer than the spec file: OpenAI's objects carry them, null and 0 unless set
      max_tool_calls: null,
      top_logprobs: 0,
    })
    // the spec's `user` is a non-nullable string: absent when not sent
    expect(response).not.toHaveProperty('user')
  })

  it('echoes the settings it was made with', async () => {
    const response = await client.responses.create({
      model: 'test-echo',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'settings' }] }],
      instructions: 'Be brief.',
      temperature: 0.3,
      top_p: 0.9,
      metadata: { topic: 'x' },
      user: 'u-1',
      max_output_tokens: 100,
      truncation: 'auto',
      top_logprobs: 3,
      // a beta parameter in SDK 6's types (client.beta.responses): plain JSON here
      ...({ max_tool_calls: 2 } as object),
    })
    expect(response).toMatchObject({
      instructions: 'Be brief.',
      temperature: 0.3,
      top_p: 0.9,
      metadata: { topic: 'x' },
      user: 'u-1',
      max_output_tokens: 100,
      truncation: 'auto',
      top_logprobs: 3,
      max_tool_calls: 2,
    })
    // SDK 6 types max_tool_calls on its beta responses, which POST /responses?beta=true
    const beta = await client.beta.responses.create({ model: 'test-echo', input: 'beta', max_tool_calls: 5 })
    expect(beta).toMatchObject({ status: 'completed', max_tool_calls: 5, top_logprobs: 0 })
    expect(response.output_text).toBe('settings')
  })

  it('stops at max_output_tokens: status incomplete', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')
    const response = await client.responses.create({ model: 'test-echo', input: long, max_output_tokens: 16 })
    expect(response.status).toBe('incomplete')
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' })
    expect(response.usage!.output_tokens).toBe(16)
  })

  it('calls a function, and answers once the output comes back (previous_response_id)', async () => {
    const first = await client.responses.create({ model: 'test-scripted', input: 'what is the weather in Paris?', tools: [weatherTool] })
    expect(first.status).toBe('completed')
    const call = first.output.find((item) => item.type === 'function_call')!
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' })
    expect(JSON.parse((call as any).arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect((call as any).id).toMatch(/^fc_/)
    expect(first.tools).toEqual([weatherTool])

    const second = await client.responses.create({
      model: 'test-scripted',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: (call as any).call_id, output: '{"temperature":21}' }],
      tools: [weatherTool],
    })
    expect(second.output_text).toBe('Tool results: get_weather: {"temperature":21}')
    expect(second.previous_response_id).toBe(first.id)
  })

  it('takes the earlier output back as input items (the stateless loop)', async () => {
    const first = await client.responses.create({ model: 'test-scripted', input: 'what is the weather in Rome?', tools: [weatherTool], store: false })
    const call = first.output.find((item) => item.type === 'function_call') as any
    const second = await client.responses.create({
      model: 'test-scripted',
      input: [
        { role: 'user', content: 'what is the weather in Rome?' },
        ...(first.output as any[]),
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ],
      tools: [weatherTool],
      store: false,
    })
    expect(second.output_text).toBe('Tool results: get_weather: sunny')
  })

  it('rebuilds a conversation of several turns from stored responses', async () => {
    const one = await client.responses.create({ model: 'test-echo', input: 'first turn' })
    const two = await client.responses.create({ model: 'test-echo', input: 'second turn', previous_response_id: one.id })
    const items = await client.responses.inputItems.list(two.id)
    expect(items.data.map((i: any) => i.content[0].text)).toEqual(['second turn'])
    expect(two.output_text).toBe('second turn')
  })

  it('parses structured output with zodTextFormat (json_schema strict)', async () => {
    const Event = z.object({ name: z.string(), day: z.enum(['mon', 'tue']), guests: z.array(z.string()) })
    const response = await client.responses.parse({
      model: 'test-scripted',
      input: 'Plan an event',
      text: { format: zodTextFormat(Event, 'event') },
    })
    expect(Event.parse(response.output_parsed)).toEqual(response.output_parsed)
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'event', strict: true })
  })

  it('refuses reasoning on models that cannot reason', async () => {
    const error = await client.responses.create({ model: 'test-echo', input: 'hi', reasoning: { effort: 'high' } }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toEqual({
      message: "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
      type: 'invalid_request_error',
      param: 'reasoning.effort',
      code: 'unsupported_parameter',
    })
  })
})

describe('stored responses', () => {
  it('retrieves, lists input items and deletes', async () => {
    const created = await client.responses.create({
      model: 'test-echo',
      input: [
        { role: 'developer', content: 'dev note' },
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: [{ type: 'input_text', text: 'three' }] },
      ],
    })
    const got = await client.responses.retrieve(created.id)
    expect(got).toEqual({ ...created, output_text: got.output_text })
    expect(got.output_text).toBe('three')

    const page = await client.responses.inputItems.list(created.id, { limit: 2 })
    expect(page.data.map((i: any) => i.role)).toEqual(['developer', 'user'])
    expect(page.has_more).toBe(true)
    const next = await client.responses.inputItems.list(created.id, { limit: 2, after: page.data[1].id })
    expect(next.data.map((i: any) => i.role)).toEqual(['assistant', 'user'])
    expect(next.has_more).toBe(false)
    const desc = await client.responses.inputItems.list(created.id, { order: 'desc' })
    expect(desc.data.map((i: any) => i.role)).toEqual(['user', 'assistant', 'user', 'developer'])
    const before = await client.responses.inputItems.list(created.id, { before: desc.data[0].id, order: 'desc' } as never)
    expect(before.data).toEqual([])

    const deleted = await client.responses.delete(created.id)
    // the SDK types delete as void (the spec declares no body); OpenAI and Plinth send one
    expect(deleted).toEqual({ id: created.id, object: 'response', deleted: true })
    const error = await client.responses.retrieve(created.id).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error.message).toBe(`Response with id '${created.id}' not found.`)
  })

  it('keeps nothing with store: false', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'forget me', store: false })
    // the SDK's Response type has no `store`; the spec's and OpenAI's object do
    expect((response as unknown as { store: boolean }).store).toBe(false)
    const error = await client.responses.retrieve(response.id).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it("is another project's: not found, and not a previous response", async () => {
    const created = await client.responses.create({ model: 'test-echo', input: 'mine' })
    const other = await otherProjectClient(t)
    const error = await other.responses.retrieve(created.id).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    const continued = await other.responses.create({ model: 'test-echo', input: 'x', previous_response_id: created.id }).catch((e) => e)
    expect(continued).toBeInstanceOf(OpenAI.BadRequestError)
    expect(continued.error).toEqual({
      message: `Previous response with id '${created.id}' not found.`,
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    })
  })
})

describe('usage', () => {
  it('records each response like a chat completion: operation completions, the model, its tokens', async () => {
    await t.ctx.services.usage.settled()
    await t.ctx.storage.db.deleteFrom('usage_records').execute()
    const plain = await client.responses.create({ model: 'test-echo', input: 'count me' })
    const streamed = await client.responses.stream({ model: 'test-echo', input: 'count me too' }).finalResponse()
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db.selectFrom('usage_records').selectAll().orderBy('id').execute()
    // both requests, whether flushed in one row or two
    const sum = (key: 'requests' | 'input_tokens' | 'output_tokens') => rows.reduce((n, r) => n + r[key], 0)
    expect(rows.every((r) => r.operation === 'completions' && r.model === 'test-echo')).toBe(true)
    expect([sum('requests'), sum('input_tokens'), sum('output_tokens')]).toEqual([
      2,
      plain.usage!.input_tokens + streamed.usage!.input_tokens,
      plain.usage!.output_tokens + streamed.usage!.output_tokens,
    ])
  })
})
