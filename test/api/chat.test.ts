import { serve, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import OpenAI from 'openai'
import { zodResponseFormat } from 'openai/helpers/zod'
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
}

const flightTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'book_flight',
    parameters: {
      type: 'object',
      properties: {
        from: { type: 'string', minLength: 3, maxLength: 3 },
        to: { type: 'string', minLength: 3, maxLength: 3 },
        passengers: { type: 'integer', minimum: 1, maximum: 9 },
        cabin: { type: 'string', enum: ['economy', 'business'] },
        date: { type: 'string', format: 'date' },
        return_trip: { type: 'boolean' },
        stops: { type: 'array', items: { type: 'string' }, minItems: 2 },
        budget: { anyOf: [{ type: 'null' }, { type: 'number', exclusiveMinimum: 100 }] },
        traveller: { $ref: '#/$defs/person' },
      },
      required: [
        'from',
        'to',
        'passengers',
        'cabin',
        'date',
        'return_trip',
        'stops',
        'budget',
        'traveller',
      ],
      additionalProperties: false,
      $defs: {
        person: {
          type: 'object',
          properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 18 } },
          required: ['name', 'age'],
          additionalProperties: false,
        },
      },
    },
  },
}

function newAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true })
  // @NOTE ajv-formats is CommonJS: under NodeNext its default import is the module object
  addFormats.default(ajv)
  return ajv
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of stream) out.push(item)
  return out
}

function textOf(chunks: ChatCompletionChunk[], choice = 0): string {
  return chunks
    .flatMap((c) => c.choices.filter((ch) => ch.index === choice))
    .map((ch) => ch.delta.content ?? '')
    .join('')
}

/**
 * Usage rows holding at least `count` requests (a row holds a flush's requests of one key). They
 * are recorded when a stream ends, which may be just after the client stops reading.
 */
async function usageRows(since: number, count = 1) {
  for (let i = 0; i < 100; i++) {
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db
      .selectFrom('usage_records')
      .selectAll()
      .where('created_at', '>=', since)
      .orderBy('id')
      .execute()
    if (rows.reduce((n, r) => n + r.requests, 0) >= count) return rows
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`expected ${count} usage rows`)
}

async function clearUsage() {
  // what earlier tests recorded is written first, not after the delete
  await t.ctx.services.usage.settled()
  await t.ctx.storage.db.deleteFrom('usage_records').execute()
  return 0
}

describe('chat completions: text', () => {
  it('echo model answers with the last user message', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-echo',
      messages: [
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'Repeat after me: the quick brown fox.' },
      ],
    })
    expect(completion.object).toBe('chat.completion')
    expect(completion.id).toMatch(/^chatcmpl-/)
    expect(completion.model).toBe('test-echo')
    expect(completion.created).toBeGreaterThan(1_700_000_000)
    expect(completion.choices).toHaveLength(1)
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      logprobs: null,
      message: {
        role: 'assistant',
        content: 'Repeat after me: the quick brown fox.',
        refusal: null,
      },
    })
    const usage = completion.usage!
    expect(usage.completion_tokens).toBeGreaterThan(3)
    expect(usage.prompt_tokens).toBeGreaterThan(usage.completion_tokens)
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens)
  })

  it('streams the same text in several chunks with a usage chunk and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'Streaming works chunk by chunk.' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = await collect(stream)
    expect(textOf(chunks)).toBe('Streaming works chunk by chunk.')
    expect(chunks.length).toBeGreaterThan(4)
    const ids = new Set(chunks.map((c) => c.id))
    expect(ids.size).toBe(1)
    expect([...ids][0]).toMatch(/^chatcmpl-/)
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk')
      expect(chunk.model).toBe('test-echo')
      // with include_usage every chunk carries the key, null until the last
      expect(chunk).toHaveProperty('usage')
    }
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason)
    expect(finish).toHaveLength(1)
    expect(finish[0].choices[0].finish_reason).toBe('stop')
    const last = chunks[chunks.length - 1]
    expect(last.choices).toEqual([])
    expect(last.usage!.completion_tokens).toBeGreaterThan(0)
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
  })

  it('streams without a usage chunk when include_usage is not set', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'No usage please.' }],
        stream: true,
      }),
    )
    expect(textOf(chunks)).toBe('No usage please.')
    for (const chunk of chunks) {
      expect(chunk.usage).toBeUndefined()
      expect(chunk.choices).toHaveLength(1)
    }
  })

  it('streamed text equals non-streamed text, for both test models', async () => {
    for (const model of ['test-echo', 'test-scripted']) {
      for (const content of [
        'hello there, friend',
        'Tell me something. Anything at all! 🙂 Ünïcödé.',
      ]) {
        const messages = [{ role: 'user' as const, content }]
        const whole = await client.chat.completions.create({ model, messages })
        const chunks = await collect(
          await client.chat.completions.create({ model, messages, stream: true }),
        )
        expect(textOf(chunks)).toBe(whole.choices[0].message.content)
      }
    }
  })

  it('the stream() helper and finalChatCompletion() rebuild the answer', async () => {
    const runner = client.chat.completions.stream({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'Helpers assemble the deltas.' }],
      stream_options: { include_usage: true },
    })
    const deltas: string[] = []
    runner.on('content.delta', ({ delta }) => deltas.push(delta))
    const final = await runner.finalChatCompletion()
    expect(deltas.join('')).toBe('Helpers assemble the deltas.')
    expect(final.choices[0].message.content).toBe('Helpers assemble the deltas.')
    expect(final.choices[0].finish_reason).toBe('stop')
    expect(final.usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('n: 3 gives three choices with indexes 0..2, streamed and not', async () => {
    const messages = [{ role: 'user' as const, content: 'three times' }]
    const whole = await client.chat.completions.create({ model: 'test-echo', messages, n: 3 })
    expect(whole.choices.map((c) => c.index)).toEqual([0, 1, 2])
    for (const choice of whole.choices) expect(choice.message.content).toBe('three times')

    const chunks = await collect(
      await client.chat.completions.create({ model: 'test-echo', messages, n: 3, stream: true }),
    )
    for (const index of [0, 1, 2]) {
      expect(textOf(chunks, index)).toBe('three times')
      const ends = chunks.flatMap((c) =>
        c.choices.filter((ch) => ch.index === index && ch.finish_reason),
      )
      expect(ends).toHaveLength(1)
    }
    const seen = new Set(chunks.flatMap((c) => c.choices.map((ch) => ch.index)))
    expect([...seen].sort()).toEqual([0, 1, 2])

    const final = await client.chat.completions
      .stream({ model: 'test-scripted', messages: [{ role: 'user', content: 'hello you' }], n: 3 })
      .finalChatCompletion()
    expect(final.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, 'Hello! How can I help you today?'],
      [1, 'Hello! How can I help you today?'],
      [2, 'Hello! How can I help you today?'],
    ])
  })

  it('stop as a string or an array cuts the answer before the stop text', async () => {
    const base = {
      model: 'test-echo',
      messages: [{ role: 'user' as const, content: 'one two three four' }],
    }
    const single = await client.chat.completions.create({ ...base, stop: ' three' })
    expect(single.choices[0].message.content).toBe('one two')
    expect(single.choices[0].finish_reason).toBe('stop')
    const several = await client.chat.completions.create({ ...base, stop: ['four', ' two'] })
    expect(several.choices[0].message.content).toBe('one')
    const chunks = await collect(
      await client.chat.completions.create({ ...base, stop: ['three'], stream: true }),
    )
    expect(textOf(chunks)).toBe('one two ')
  })

  it('max_tokens and max_completion_tokens end the answer with finish_reason length', async () => {
    const base = {
      model: 'test-echo',
      messages: [
        {
          role: 'user' as const,
          content: 'a long sentence that has many more than three tokens in it',
        },
      ],
    }
    for (const limit of [{ max_tokens: 3 }, { max_completion_tokens: 3 }]) {
      const completion = await client.chat.completions.create({ ...base, ...limit })
      expect(completion.choices[0].finish_reason).toBe('length')
      expect(completion.usage!.completion_tokens).toBe(3)
      expect(completion.choices[0].message.content).toBe('a long sentence')
      const chunks = await collect(
        await client.chat.completions.create({ ...base, ...limit, stream: true }),
      )
      expect(textOf(chunks)).toBe('a long sentence')
      expect(chunks.at(-1)!.choices[0].finish_reason).toBe('length')
    }
    const roomy = await client.chat.completions.create({ ...base, max_completion_tokens: 100 })
    expect(roomy.choices[0].finish_reason).toBe('stop')
  })

  it('logprobs and top_logprobs give one entry per token', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'probably certain' }],
      logprobs: true,
      top_logprobs: 2,
    })
    const logprobs = completion.choices[0].logprobs!
    expect(logprobs.refusal).toBeNull()
    const content = logprobs.content!
    expect(content.map((l) => l.token).join('')).toBe('probably certain')
    for (const entry of content) {
      expect(entry.logprob).toBe(0)
      expect(entry.bytes).toEqual([...Buffer.from(entry.token)])
      expect(entry.top_logprobs.length).toBeGreaterThanOrEqual(1)
      expect(entry.top_logprobs.length).toBeLessThanOrEqual(2)
      expect(entry.top_logprobs[0].token).toBe(entry.token)
    }
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'probably certain' }],
        logprobs: true,
        stream: true,
      }),
    )
    const streamed = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? [])
    expect(streamed.map((l) => l.token).join('')).toBe('probably certain')
    expect(streamed.every((l) => l.top_logprobs.length === 0)).toBe(true)

    const plain = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'no logprobs' }],
    })
    expect(plain.choices[0].logprobs).toBeNull()
  })

  it('accepts multimodal user content parts and echoes their text', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-echo',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture? ' },
            {
              type: 'image_url',
              image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
            },
            { type: 'text', text: 'Be brief.' },
          ],
        },
      ],
    })
    expect(completion.choices[0].message.content).toBe('What is in this picture? Be brief.')
    // an image part is billed, so the prompt is more than its text
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(50)
  })

  it('accepts developer, system, assistant and named messages', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-echo',
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be terse.' }] },
        { role: 'user', content: 'first', name: 'alice' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
      temperature: 0,
      top_p: 1,
      seed: 42,
      user: 'user-1234',
    })
    expect(completion.choices[0].message.content).toBe('second')
  })

  it('accepts the identifiers and stream options SDK 6 sends', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'newer fields' }],
        prompt_cache_key: 'cache-1',
        safety_identifier: 'user-hash-1',
        stream: true,
        stream_options: { include_usage: true, include_obfuscation: false },
      }),
    )
    expect(textOf(chunks)).toBe('newer fields')
  })

  it("accepts modalities: ['text'] (what every test model gives) and refuses audio output", async () => {
    for (const model of ['test-echo', 'test-scripted']) {
      const text = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], modalities: ['text'] })
      expect(text.choices[0].message.content).toBeTruthy()
    }
    const audio = await client.chat.completions
      .create({ model: 'test-echo', messages: [{ role: 'user', content: 'hello' }], modalities: ['text', 'audio'] })
      .catch((e) => e)
    expect(audio.status).toBe(400)
    expect(audio.error).toMatchObject({ param: 'modalities', code: 'unsupported_parameter' })
  })

  it('refuses reasoning_effort, as a model that does not reason does', async () => {
    for (const model of ['test-echo', 'test-scripted']) {
      const error = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'think hard' }], reasoning_effort: 'high' })
        .catch((e) => e)
      expect(error.status).toBe(400)
      expect(error.error).toEqual({
        message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        type: 'invalid_request_error',
        param: 'reasoning_effort',
        code: 'unsupported_parameter',
      })
    }
  })

  it("accepts service_tier 'priority', as SDK 6 types it and the Responses API takes it", async () => {
    const completion = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'fast please' }],
      service_tier: 'priority',
    })
    expect(completion.choices[0].message.content).toBe('fast please')
    // the tier that served it
    expect(completion.service_tier).toBe('default')
  })
})

describe('chat completions: tools', () => {
  it('test-scripted calls get_weather with the fixture arguments', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
    })
    const choice = completion.choices[0]
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    expect(choice.message.tool_calls).toHaveLength(1)
    const call = choice.message.tool_calls![0]
    expect(call.type).toBe('function')
    expect(call.id).toMatch(/^call_/)
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
  })

  it('never calls a tool the request did not offer, nor when tool_choice is none', async () => {
    const messages = [{ role: 'user' as const, content: 'What is the weather in Paris?' }]
    const noTools = await client.chat.completions.create({ model: 'test-scripted', messages })
    expect(noTools.choices[0].message.tool_calls).toBeUndefined()
    expect(noTools.choices[0].message.content).toBe('This is a scripted reply from test-scripted.')
    const otherTool = await client.chat.completions.create({
      model: 'test-scripted',
      messages,
      tools: [flightTool],
    })
    expect(otherTool.choices[0].message.tool_calls).toBeUndefined()
    const none = await client.chat.completions.create({
      model: 'test-scripted',
      messages,
      tools: [weatherTool],
      tool_choice: 'none',
    })
    expect(none.choices[0].finish_reason).toBe('stop')
    expect(none.choices[0].message.tool_calls).toBeUndefined()
    const named = await client.chat.completions.create({
      model: 'test-scripted',
      messages,
      tools: [weatherTool, flightTool],
      tool_choice: { type: 'function', function: { name: 'book_flight' } },
    })
    const calls = named.choices[0].message.tool_calls!
    expect(calls.map((c) => c.type === 'function' && c.function.name)).toEqual(['book_flight'])
  })

  it('a tool named in the text gets arguments valid against its schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'Please book flight to Rome for me' }],
      tools: [weatherTool, flightTool],
    })
    const calls = completion.choices[0].message.tool_calls!
    expect(calls).toHaveLength(1)
    const call = calls[0]
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function.name).toBe('book_flight')
    const validate = newAjv().compile(flightTool.function.parameters!)
    const args = JSON.parse(call.function.arguments)
    expect(validate(args), JSON.stringify(validate.errors)).toBe(true)
  })

  it('tool_choice required and a named function force a call', async () => {
    const required = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'nothing in particular' }],
      tools: [flightTool, weatherTool],
      tool_choice: 'required',
    })
    expect(required.choices[0].finish_reason).toBe('tool_calls')
    expect(required.choices[0].message.tool_calls!.length).toBeGreaterThanOrEqual(1)

    const named = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'please book flight' }],
      tools: [flightTool, weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    })
    const calls = named.choices[0].message.tool_calls!
    expect(calls).toHaveLength(1)
    expect(calls[0].type === 'function' && calls[0].function.name).toBe('get_weather')

    const none = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'please book flight' }],
      tools: [flightTool],
      tool_choice: 'none',
    })
    expect(none.choices[0].message.tool_calls).toBeUndefined()
    expect(none.choices[0].finish_reason).toBe('stop')
  })

  it('calls several tools, or one with parallel_tool_calls: false', async () => {
    const messages = [{ role: 'user' as const, content: 'get weather and book flight' }]
    const parallel = await client.chat.completions.create({
      model: 'test-scripted',
      messages,
      tools: [weatherTool, flightTool],
    })
    const calls = parallel.choices[0].message.tool_calls!
    expect(calls.map((c) => c.type === 'function' && c.function.name)).toEqual([
      'get_weather',
      'book_flight',
    ])
    expect(new Set(calls.map((c) => c.id)).size).toBe(2)
    const single = await client.chat.completions.create({
      model: 'test-scripted',
      messages,
      tools: [weatherTool, flightTool],
      parallel_tool_calls: false,
    })
    expect(single.choices[0].message.tool_calls).toHaveLength(1)
  })

  it('max_tokens cuts a tool call short with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'what is the weather in Paris' }],
      tools: [weatherTool],
      max_completion_tokens: 5,
    })
    const choice = completion.choices[0]
    expect(choice.finish_reason).toBe('length')
    const call = choice.message.tool_calls![0]
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function.name).toBe('get_weather')
    expect('{"city":"Paris","unit":"celsius"}'.startsWith(call.function.arguments)).toBe(true)
    expect(call.function.arguments.length).toBeLessThan(20)
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(5)
  })

  it('accepts legacy functions but refuses to force a function_call it cannot make', async () => {
    const functions = [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }]
    const accepted = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'hello' }],
      functions,
      function_call: 'auto',
    })
    expect(accepted.choices[0].message.content).toBe('Hello! How can I help you today?')
    const forced = await client.chat.completions
      .create({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'hello' }],
        functions,
        function_call: { name: 'get_weather' },
      })
      .catch((e) => e)
    expect(forced.status).toBe(400)
    expect(forced.error).toMatchObject({ param: 'function_call', code: 'unsupported_parameter' })
  })

  it('answers tool results in a round trip', async () => {
    const first = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'what is the weather in Paris' }],
      tools: [weatherTool],
    })
    const assistant = first.choices[0].message
    const call = assistant.tool_calls![0]
    const second = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [
        { role: 'user', content: 'what is the weather in Paris' },
        { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls },
        { role: 'tool', tool_call_id: call.id, content: '18C and sunny' },
      ],
      tools: [weatherTool],
    })
    expect(second.choices[0].message.content).toBe('Tool results: get_weather: 18C and sunny')
    expect(second.choices[0].finish_reason).toBe('stop')
  })

  it('streams tool-call deltas that the stream helper reassembles', async () => {
    const stream = client.chat.completions.stream({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'What is the weather in Paris? And book flight too.' }],
      tools: [weatherTool, flightTool],
    })
    const done: { name: string; arguments: string }[] = []
    stream.on('tool_calls.function.arguments.done', (event) =>
      done.push({ name: event.name, arguments: event.arguments }),
    )
    const final = await stream.finalChatCompletion()
    const calls = final.choices[0].message.tool_calls!
    expect(final.choices[0].finish_reason).toBe('tool_calls')
    expect(calls).toHaveLength(1)
    const call = calls[0]
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(done).toEqual([{ name: 'get_weather', arguments: call.function.arguments }])

    // the raw chunks: id, type and name once, then argument pieces
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'please get weather and book flight' }],
        tools: [weatherTool, flightTool],
        stream: true,
      }),
    )
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    for (const index of [0, 1]) {
      const mine = deltas.filter((d) => d.index === index)
      expect(mine.length).toBeGreaterThan(2)
      expect(mine[0].id).toMatch(/^call_/)
      expect(mine[0].type).toBe('function')
      expect(mine.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(
        true,
      )
      const args = mine.map((d) => d.function?.arguments ?? '').join('')
      expect(() => JSON.parse(args)).not.toThrow()
    }
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls')
  })
})

describe('chat completions: response formats', () => {
  const Person = z.object({
    name: z.string(),
    age: z.number().int(),
    tags: z.array(z.string()),
    role: z.enum(['admin', 'user']),
    address: z.object({ city: z.string(), zip: z.string().nullable() }),
  })

  it('parse() with a zod response format gives a parsed object', async () => {
    const completion = await client.chat.completions.parse({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'Describe a person.' }],
      response_format: zodResponseFormat(Person, 'person'),
    })
    const message = completion.choices[0].message
    expect(message.parsed).not.toBeNull()
    expect(Person.safeParse(message.parsed).success).toBe(true)
  })

  it('a plain json_schema response format is filled with valid JSON, streamed too', async () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 10 },
        score: { type: 'number', minimum: 5, maximum: 10 },
        labels: { type: 'array', items: { type: 'string', enum: ['x', 'y'] }, minItems: 3 },
      },
      required: ['title', 'score', 'labels'],
      additionalProperties: false,
    }
    const validate = newAjv().compile(schema)
    const request = {
      model: 'test-scripted',
      messages: [{ role: 'user' as const, content: 'Rate this.' }],
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: 'rating', schema, strict: true },
      },
    }
    const completion = await client.chat.completions.create(request)
    const value = JSON.parse(completion.choices[0].message.content!)
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true)
    const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }))
    expect(textOf(chunks)).toBe(completion.choices[0].message.content)
  })

  it('json_object gives a JSON object and needs the word json in the messages', async () => {
    const completion = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'Answer in JSON.' }],
      response_format: { type: 'json_object' },
    })
    const value = JSON.parse(completion.choices[0].message.content!)
    expect(typeof value).toBe('object')
    expect(Array.isArray(value)).toBe(false)

    const error = await client.chat.completions
      .create({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'Answer.' }],
        response_format: { type: 'json_object' },
      })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error.message).toBe(
      "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
    )
  })
})

describe('chat completions: failures', () => {
  it('a mid-stream failure makes the SDK iteration throw the scripted error', async () => {
    const stream = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'please fail midway' }],
      stream: true,
    })
    const received: ChatCompletionChunk[] = []
    const error = await (async () => {
      for await (const chunk of stream) received.push(chunk)
    })().catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error.message).toContain('Scripted failure after two chunks')
    expect(error.error).toMatchObject({
      message: 'Scripted failure after two chunks',
      type: 'server_error',
    })
    expect(textOf(received)).toBe('one two')
  })

  it('the same failure without streaming is a 500 with the scripted message', async () => {
    const error = await client.chat.completions
      .create({ model: 'test-scripted', messages: [{ role: 'user', content: 'fail midway' }] })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.InternalServerError)
    expect(error.status).toBe(500)
    expect(error.error.message).toBe('Scripted failure after two chunks')
  })

  it('a failure before the stream starts is a plain HTTP error (429, type requests)', async () => {
    for (const stream of [false, true]) {
      const error = await client.chat.completions
        .create({
          model: 'test-scripted',
          messages: [{ role: 'user', content: 'fail with 429' }],
          stream,
        })
        .catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.RateLimitError)
      expect(error.status).toBe(429)
      expect(error.error).toEqual({
        message: 'Scripted rate limit',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      })
      expect(error.requestID).toMatch(/^req_[0-9a-f]{32}$/)
    }
  })

  it('an unknown model is 404 model_not_found, streamed or not', async () => {
    for (const stream of [false, true]) {
      const error = await client.chat.completions
        .create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }], stream })
        .catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error).toEqual({
        message: 'The model `gpt-nope` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      })
    }
  })

  it('the echo model refuses what it cannot honour with unsupported_parameter', async () => {
    const error = await client.chat.completions
      .create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [weatherTool],
        tool_choice: 'required',
      })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toEqual({
      message: "Unsupported parameter: 'tool_choice' is not supported with this model.",
      type: 'invalid_request_error',
      param: 'tool_choice',
      code: 'unsupported_parameter',
    })
    const format = await client.chat.completions
      .create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'json' }],
        response_format: { type: 'json_object' },
      })
      .catch((e) => e)
    expect(format.status).toBe(400)
    expect(format.error.code).toBe('unsupported_parameter')
    expect(format.error.param).toBe('response_format')
  })

  it('an embeddings model cannot chat (404, as OpenAI answers for a model that is not a chat model)', async () => {
    const error = await client.chat.completions
      .create({ model: 'test-embed', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error).toEqual({
      message:
        'This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?',
      type: 'invalid_request_error',
      param: 'model',
      code: null,
    })
  })

  it('checks the conversation rules OpenAI enforces', async () => {
    const cases: [Record<string, unknown>, string, string | null][] = [
      [
        { messages: [{ role: 'tool', tool_call_id: 'call_x', content: 'r' }] },
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        'messages.[0].role',
      ],
      [
        {
          messages: [
            { role: 'user', content: 'a' },
            {
              role: 'assistant',
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } },
              ],
            },
            { role: 'user', content: 'b' },
          ],
        },
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
        'messages',
      ],
      [
        { messages: [{ role: 'user', content: 'a' }], tool_choice: 'auto' },
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        'tool_choice',
      ],
      [
        { messages: [{ role: 'user', content: 'a' }], stream_options: { include_usage: true } },
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        'stream_options',
      ],
      [
        { messages: [{ role: 'user', content: 'a' }], top_logprobs: 2 },
        "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
        'top_logprobs',
      ],
    ]
    for (const [body, message, param] of cases) {
      const error = await client.chat.completions
        .create({ model: 'test-scripted', ...body } as never)
        .catch((e) => e)
      expect(error.status, message).toBe(400)
      expect(error.error.message).toBe(message)
      expect(error.error.param).toBe(param)
    }
  })
})

describe('chat completions: usage records', () => {
  it('counts every answer, streamed or not, never with zero output tokens', async () => {
    const since = await clearUsage()
    const whole = await client.chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'count my tokens please' }],
    })
    await collect(
      await client.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'count my tokens please' }],
        stream: true,
      }),
    )
    // one row each, or one row holding both when they were flushed together
    const rows = await usageRows(since, 2)
    for (const row of rows) {
      expect(row).toMatchObject({
        operation: 'completions',
        model: 'test-echo',
        project_id: t.ctx.bootstrap.created!.project.id,
        batch: 0,
      })
      expect(row.input_tokens).toBe(row.requests * whole.usage!.prompt_tokens)
      expect(row.output_tokens).toBe(row.requests * whole.usage!.completion_tokens)
      expect(row.api_key_id).toMatch(/^key_/)
    }
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(2)
  })

  it('still records usage when the client stops reading a stream early', async () => {
    const since = await clearUsage()
    const stream = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'go slowly' }],
      stream: true,
    })
    let seen = 0
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) seen++
      if (seen === 2) break
    }
    const rows = await usageRows(since)
    expect(rows).toHaveLength(1)
    expect(rows[0].output_tokens).toBeGreaterThan(0)
    // far fewer than the 26 letters the full answer has
    expect(rows[0].output_tokens).toBeLessThan(20)
  })

  it('stops generating and records usage when a client disconnects over a real socket', async () => {
    // in-process requests cannot show how @hono/node-server reacts to a closed socket
    const server: ServerType = await new Promise((resolve) => {
      const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
    })
    try {
      const { port } = server.address() as AddressInfo
      const remote = new OpenAI({
        apiKey: PROJECT_KEY,
        baseURL: `http://127.0.0.1:${port}/v1`,
        maxRetries: 0,
      })
      const since = await clearUsage()
      const stream = await remote.chat.completions.create({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'go slowly' }],
        stream: true,
      })
      let seen = 0
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) seen++
        if (seen === 3) break
      }
      const rows = await usageRows(since)
      expect(rows).toHaveLength(1)
      expect(rows[0].output_tokens).toBeGreaterThan(0)
      expect(rows[0].output_tokens).toBeLessThan(20)
      // the server is still fine afterwards
      const after = await remote.chat.completions.create({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'still up' }],
      })
      expect(after.choices[0].message.content).toBe('still up')
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
    }
  })

  it('records the tokens of a stream that failed midway', async () => {
    const since = await clearUsage()
    const stream = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'fail midway' }],
      stream: true,
    })
    await collect(stream).catch(() => {})
    const rows = await usageRows(since)
    expect(rows).toHaveLength(1)
    expect(rows[0].output_tokens).toBeGreaterThan(0)
  })

  it('records nothing for a request refused before any output', async () => {
    await clearUsage()
    await client.chat.completions
      .create({ model: 'test-scripted', messages: [{ role: 'user', content: 'fail with 429' }] })
      .catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 20))
    const rows = await t.ctx.storage.db.selectFrom('usage_records').selectAll().execute()
    expect(rows).toEqual([])
  })
})
