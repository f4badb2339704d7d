import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { APIError } from 'openai'
import type { Completion, CompletionChoice } from 'openai/resources/completions'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  FAKE_TEXT,
  fakeEmbedding,
  type FakeUpstream,
  startFakeUpstream,
} from '../helpers/fake-upstream.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

const UPSTREAM_KEY = 'sk-upstream-fake-0123456789'
const messages = [{ role: 'user' as const, content: 'Say hello.' }]

let fake: FakeUpstream
let t: TestApp

beforeAll(async () => {
  fake = await startFakeUpstream()
  process.env.FAKE_UPSTREAM_KEY = UPSTREAM_KEY
  const model = (id: string, upstream: string, upstreamModel = 'fake-model') => ({
    id,
    provider: 'openai-compatible' as const,
    upstream,
    upstreamModel,
  })
  t = await createTestApp({
    upstreams: [
      { id: 'fake', baseURL: fake.baseURL, apiKeyEnv: 'FAKE_UPSTREAM_KEY' },
      {
        id: 'strict',
        baseURL: fake.baseURL,
        apiKeyEnv: 'FAKE_UPSTREAM_KEY',
        connectTimeoutMs: 300,
        timeoutMs: 800,
      },
      { id: 'dead', baseURL: `http://127.0.0.1:${await closedPort()}/v1` },
    ],
    models: [
      model('gpt-fake', 'fake'),
      model('gpt-strict', 'strict'),
      model('gpt-dead', 'dead'),
      model('embed-fake', 'fake', 'fake-embed'),
      // configured, but the upstream has no model of that name
      model('ghost', 'fake', 'nope'),
    ],
  })
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
})
beforeEach(() => fake.reset())

async function closedPort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The model's usage rows, once every request recorded so far is written (settled). */
async function usageRows(model: string) {
  await t.ctx.services.usage.settled()
  return t.ctx.storage.db
    .selectFrom('usage_records')
    .selectAll()
    .where('model', '=', model)
    .orderBy('id')
    .execute()
}

/** Requests in usage rows: a row holds a flush's requests of one key. */
const requestsIn = (rows: { requests: number }[]) => rows.reduce((n, r) => n + r.requests, 0)

async function failure(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e) => e,
  )
  expect(error).toBeInstanceOf(APIError)
  return error
}

/** A streamed legacy completion's first choice, its chunks joined. */
async function joined(stream: AsyncIterable<Completion>): Promise<CompletionChoice> {
  const choice = { text: '', index: 0, finish_reason: 'stop', logprobs: { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] } } as unknown as CompletionChoice
  const lp = choice.logprobs as Required<NonNullable<CompletionChoice['logprobs']>>
  for await (const chunk of stream) {
    const part = chunk.choices[0]
    if (!part) continue
    choice.text += part.text
    lp.tokens.push(...(part.logprobs?.tokens ?? []))
    lp.token_logprobs.push(...(part.logprobs?.token_logprobs ?? []))
    lp.top_logprobs.push(...(part.logprobs?.top_logprobs ?? []))
    lp.text_offset.push(...(part.logprobs?.text_offset ?? []))
  }
  return choice
}

async function drain(
  stream: AsyncIterable<{ choices: { delta?: { content?: string | null } }[] }>,
): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  return text
}

describe('chat through an OpenAI-compatible upstream', () => {
  it('answers non-streamed, with the upstream key, model and every parameter forwarded', async () => {
    const before = requestsIn(await usageRows('gpt-fake'))
    const completion = await t.client().chat.completions.create({
      model: 'gpt-fake',
      messages,
      temperature: 0.3,
      seed: 42,
      max_completion_tokens: 50,
      user: 'u-1',
      n: 2,
      store: true,
    })
    expect(completion.model).toBe('gpt-fake')
    expect(completion.choices.map((c) => c.message.content)).toEqual([FAKE_TEXT, FAKE_TEXT])
    expect(completion.usage).toMatchObject({
      prompt_tokens: 7,
      completion_tokens: 10,
      prompt_tokens_details: { cached_tokens: 2 },
    })
    const seen = fake.last()
    expect(seen.path).toBe('/v1/chat/completions')
    expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    expect(seen.body).toEqual({
      model: 'fake-model',
      messages,
      temperature: 0.3,
      seed: 42,
      max_completion_tokens: 50,
      user: 'u-1',
      n: 2,
      stream: false,
    })
    const rows = await usageRows('gpt-fake')
    expect(requestsIn(rows)).toBe(before + 1)
    expect(rows.at(-1)).toMatchObject({
      input_tokens: 7,
      output_tokens: 10,
      cached_tokens: 2,
      operation: 'completions',
    })
  })

  it('streams chunks as the upstream sends them, and records the upstream usage', async () => {
    fake.once({ holdAfter: 1 })
    const before = requestsIn(await usageRows('gpt-fake'))
    const stream = await t.client().chat.completions.create({
      model: 'gpt-fake',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = stream[Symbol.asyncIterator]()
    let text = ''
    while (!text) text += (await chunks.next()).value.choices[0]?.delta?.content ?? ''
    expect(text).toBe('Hello')
    // the upstream still holds the rest: the first words reached the client on their own
    const state = await Promise.race([
      fake.last().closed.then(() => 'closed'),
      new Promise((r) => setTimeout(r, 50, 'open')),
    ])
    expect(state).toBe('open')
    fake.release()
    let last
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      text += next.value.choices[0]?.delta?.content ?? ''
      last = next.value
    }
    expect(text).toBe(FAKE_TEXT)
    expect(last!.usage).toMatchObject({
      prompt_tokens: 7,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 2 },
    })
    expect(fake.last().body).toMatchObject({
      model: 'fake-model',
      stream: true,
      stream_options: { include_usage: true },
    })
    const rows = await usageRows('gpt-fake')
    expect(requestsIn(rows)).toBe(before + 1)
    expect(rows.at(-1)).toMatchObject({ input_tokens: 7, output_tokens: 5, cached_tokens: 2 })
  })

  it('asks the upstream for usage even when the client did not', async () => {
    fake.set({ usage: { prompt_tokens: 123, completion_tokens: 4 }, lineEnding: '\r\n' })
    await drain(
      await t.client().chat.completions.create({ model: 'gpt-fake', messages, stream: true }),
    )
    expect(fake.last().body.stream_options).toEqual({ include_usage: true })
    expect((await usageRows('gpt-fake')).at(-1)).toMatchObject({
      input_tokens: 123,
      output_tokens: 4,
    })
  })

  it('answers many requests in flight at once whole, streamed and not (writes held to the end of the I/O batch while busy)', async () => {
    const before = requestsIn(await usageRows('gpt-fake'))
    const client = t.client()
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        if (i % 2) return (await client.chat.completions.create({ model: 'gpt-fake', messages })).choices[0].message.content
        const stream = await client.chat.completions.create({ model: 'gpt-fake', messages, stream: true })
        let text = ''
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
        return text
      }),
    )
    expect(answers).toEqual(Array(24).fill(FAKE_TEXT))
    expect(requestsIn(await usageRows('gpt-fake'))).toBe(before + 24)
  })

  it('passes tools through and returns the tool calls, streamed and not', async () => {
    const call = { id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }
    fake.set({ toolCalls: [call] })
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ]
    const params = {
      model: 'gpt-fake',
      messages,
      tools,
      tool_choice: 'required' as const,
      parallel_tool_calls: false,
    }
    const completion = await t.client().chat.completions.create(params)
    expect(fake.last().body).toMatchObject({
      tools,
      tool_choice: 'required',
      parallel_tool_calls: false,
    })
    expect(completion.choices[0].finish_reason).toBe('tool_calls')
    expect(completion.choices[0].message.tool_calls).toEqual([
      {
        id: 'call_abc',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ])

    const stream = await t.client().chat.completions.create({ ...params, stream: true })
    let name = ''
    let args = ''
    let finish
    for await (const chunk of stream) {
      for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) {
        name += c.function?.name ?? ''
        args += c.function?.arguments ?? ''
      }
      finish ??= chunk.choices[0]?.finish_reason
    }
    expect([name, args, finish]).toEqual(['get_weather', '{"city":"Paris"}', 'tool_calls'])
  })
})

describe('legacy completions and embeddings through the upstream', () => {
  it('completes a prompt, streamed and not, with logprobs', async () => {
    const completion = await t
      .client()
      .completions.create({ model: 'gpt-fake', prompt: 'Say hi', max_tokens: 20, logprobs: 1 })
    expect(fake.last()).toMatchObject({
      path: '/v1/completions',
      body: { model: 'fake-model', prompt: 'Say hi', max_tokens: 20, logprobs: 1, stream: false },
    })
    expect(completion.choices[0].text).toBe(FAKE_TEXT)
    expect(completion.choices[0].logprobs?.tokens?.join('')).toBe(FAKE_TEXT)
    expect(completion.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 5 })

    const stream = await t
      .client()
      .completions.create({ model: 'gpt-fake', prompt: 'Say hi', stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
    expect(text).toBe(FAKE_TEXT)
    expect(fake.last().body).toMatchObject({
      prompt: 'Say hi',
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it("leaves echo with logprobs to the upstream: its echo and the prompt's log probabilities, or its 400", async () => {
    const prompt = 'Score me'
    for (const stream of [false, true]) {
      const answer = await t.client().completions.create({ model: 'gpt-fake', prompt, echo: true, logprobs: 1, max_tokens: 5, stream })
      const choice = stream ? await joined(answer as AsyncIterable<Completion>) : (answer as Completion).choices[0]
      expect(fake.last().body).toMatchObject({ prompt, echo: true, logprobs: 1, stream })
      // the prompt once (the upstream's echo, not Plinth's as well), then the completion
      expect(choice.text).toBe(prompt + FAKE_TEXT)
      const logprobs = choice.logprobs!
      expect(logprobs.tokens!.join('')).toBe(prompt + FAKE_TEXT)
      // the prompt's first token has no probability: null as the upstream said, not 0 (certainty)
      expect(logprobs.token_logprobs!.slice(0, 2)).toEqual([null, -0.25])
      expect(logprobs.top_logprobs![0]).toBeNull()
      expect(logprobs.text_offset!.slice(0, 3)).toEqual([0, 5, 8])
    }
    // an upstream that refuses the pair (OpenAI's gpt-3.5-turbo-instruct) is relayed as it said it
    const refusal = {
      error: {
        message: "Setting 'echo' and 'logprobs' at the same time is not supported for this model.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }
    fake.once({ error: { status: 400, body: refusal } })
    const error = await failure(t.client().completions.create({ model: 'gpt-fake', prompt, echo: true, logprobs: 0 }))
    expect([error.status, (error.error as { message: string }).message]).toEqual([400, refusal.error.message])
    // echo alone is still Plinth's (upstreams such as Ollama ignore `echo`)
    const echoed = await t.client().completions.create({ model: 'gpt-fake', prompt, echo: true })
    expect(echoed.choices[0].text).toBe(prompt + FAKE_TEXT)
    expect(fake.last().body.echo).toBeUndefined()
  })

  it('embeds as float and as base64 (the SDK default), always asking the upstream for floats, with the user forwarded', async () => {
    const input = ['hello world', 'bye']
    const floats = await t
      .client()
      .embeddings.create({ model: 'embed-fake', input, encoding_format: 'float', dimensions: 4, user: 'user-1234' })
    expect(floats.data.map((d) => d.embedding)).toEqual(input.map((i) => fakeEmbedding(i, 4)))
    expect(fake.last().body).toEqual({
      model: 'fake-embed',
      input,
      dimensions: 4,
      encoding_format: 'float',
      user: 'user-1234',
    })
    expect(floats.usage.prompt_tokens).toBe(3)
    // written now, so that the next request's usage is a row of its own
    await t.ctx.services.usage.settled()

    const decoded = await t
      .client()
      .embeddings.create({ model: 'embed-fake', input: 'hello world' })
    expect(decoded.data[0].embedding).toEqual(fakeEmbedding('hello world'))
    expect(fake.last().body).toMatchObject({ input: 'hello world', encoding_format: 'float' })
    // no user, no dimensions: none sent (an upstream may refuse `dimensions` on older models)
    expect(Object.keys(fake.last().body).sort()).toEqual(['encoding_format', 'input', 'model'])
    // the two requests' rows (they may share one: rows are summed per flush and second)
    const rows = await usageRows('embed-fake')
    expect(rows.every((r) => r.operation === 'embeddings')).toBe(true)
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(2)
    expect(rows.reduce((n, r) => n + r.input_tokens, 0)).toBe(3 + 2)
  })
})

describe('upstream failures', () => {
  it('keeps an upstream 400 and its message, streamed or not', async () => {
    const body = {
      error: {
        message: "Invalid value for 'temperature'.",
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'invalid_value',
      },
    }
    for (const stream of [false, true]) {
      fake.once({ error: { status: 400, body } })
      const error = await failure(
        t.client().chat.completions.create({ model: 'gpt-fake', messages, stream }),
      )
      expect([error.status, error.param, error.code]).toEqual([400, 'temperature', 'invalid_value'])
      expect((error.error as { message: string }).message).toBe(body.error.message)
    }
  })

  it("names the public model, never the upstream's, in the upstream's errors (chat, stored, streamed, embeddings, responses)", async () => {
    fake.set({ models: ['fake-model', 'fake-embed'] })
    const expected = 'The model `ghost` does not exist or you do not have access to it.'
    const client = t.client()
    const attempts: [string, Promise<unknown>][] = [
      ['chat', client.chat.completions.create({ model: 'ghost', messages })],
      ['chat, stored', client.chat.completions.create({ model: 'ghost', messages, store: true })],
      ['chat, streamed', client.chat.completions.create({ model: 'ghost', messages, stream: true })],
      ['chat, streamed and stored', client.chat.completions.create({ model: 'ghost', messages, stream: true, store: true })],
      ['completions', client.completions.create({ model: 'ghost', prompt: 'hi' })],
      ['embeddings', client.embeddings.create({ model: 'ghost', input: 'hi' })],
      ['responses', client.responses.create({ model: 'ghost', input: 'hi' })],
    ]
    // each attempt's rejection is taken at once: awaiting them one by one left the later ones
    // rejected with no handler for a while, which Node reports as unhandled
    const failures = attempts.map(([what, attempt]) => [what, failure(attempt)] as const)
    for (const [what, failed] of failures) {
      const error = await failed
      expect([what, error.status, error.code]).toEqual([what, 404, 'model_not_found'])
      expect([what, (error.error as { message: string }).message]).toEqual([what, expected])
      expect(JSON.stringify(error.error)).not.toContain('nope')
    }
    expect(fake.requests.every((r) => r.body.model === 'nope')).toBe(true)
    // a name that only contains the upstream's is left alone
    fake.once({ error: { status: 400, body: { error: { message: "'nope-2' and 'nopes' are not 'nope'.", type: 'invalid_request_error', param: null, code: null } } } })
    const error = await failure(client.chat.completions.create({ model: 'ghost', messages }))
    expect((error.error as { message: string }).message).toBe("'nope-2' and 'nopes' are not 'ghost'.")
  })

  it('turns an upstream 500 into 502, and 401 into a 502 about the upstream key', async () => {
    fake.once({ error: { status: 500, body: 'Internal Server Error' } })
    expect(
      (await failure(t.client().chat.completions.create({ model: 'gpt-fake', messages }))).status,
    ).toBe(502)
    fake.once({
      error: {
        status: 401,
        body: {
          error: {
            message: 'Incorrect API key provided: sk-upstr***6789',
            code: 'invalid_api_key',
          },
        },
      },
    })
    const error = await failure(t.client().chat.completions.create({ model: 'gpt-fake', messages }))
    expect(error.status).toBe(502)
    expect(error.message).toContain("the upstream 'fake' rejected Plinth's credentials")
    expect(error.message).not.toContain('sk-upstr')
  })

  it('answers 502 for an unreachable upstream', async () => {
    const error = await failure(
      t.client().chat.completions.create({ model: 'gpt-dead', messages, stream: true }),
    )
    expect(error.status).toBe(502)
    expect(error.message).toContain("cannot connect to upstream 'dead' (ECONNREFUSED)")
  })

  it('answers 504 when a streamed request gets no headers within connectTimeoutMs', async () => {
    fake.once({ hang: 'headers' })
    const started = Date.now()
    const error = await failure(
      t.client().chat.completions.create({ model: 'gpt-strict', messages, stream: true }),
    )
    expect(error.status).toBe(504)
    expect(error.message).toContain("upstream 'strict' did not answer within 300 ms")
    expect(Date.now() - started).toBeLessThan(800)
    await fake.last().closed
    expect(fake.last().aborted).toBe(true)
  })

  it('answers 504 when a non-streamed request runs past timeoutMs', async () => {
    fake.once({ hang: 'body' })
    const started = Date.now()
    const error = await failure(
      t.client().chat.completions.create({ model: 'gpt-strict', messages }),
    )
    expect(error.status).toBe(504)
    expect(error.message).toContain('did not finish within 800 ms')
    expect(Date.now() - started).toBeGreaterThanOrEqual(700)
  })

  it('delivers slow chunks, and ends a stream that outlives timeoutMs with an error event', async () => {
    fake.once({ chunkDelayMs: 20 })
    expect(
      await drain(
        await t.client().chat.completions.create({ model: 'gpt-strict', messages, stream: true }),
      ),
    ).toBe(FAKE_TEXT)
    fake.once({ chunkDelayMs: 250 })
    const stream = await t
      .client()
      .chat.completions.create({ model: 'gpt-strict', messages, stream: true })
    expect((await failure(drain(stream))).message).toContain('did not finish within 800 ms')
  })

  it('reports a dropped connection or an error event mid-stream as an error event', async () => {
    fake.once({ dropAfter: 2 })
    let stream = await t
      .client()
      .chat.completions.create({ model: 'gpt-fake', messages, stream: true })
    expect((await failure(drain(stream))).message).toContain(
      'closed the connection before the answer was complete',
    )
    fake.once({
      streamError: { after: 1, error: { message: 'model overloaded', type: 'server_error' } },
    })
    stream = await t.client().chat.completions.create({ model: 'gpt-fake', messages, stream: true })
    expect((await failure(drain(stream))).message).toContain('model overloaded')
  })
})

describe('a client that disconnects mid-stream (real port)', () => {
  it('aborts the upstream request at once and leaves the server healthy', async () => {
    const server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }) as http.Server
    await new Promise((resolve) => server.once('listening', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const headers = { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' }
    try {
      fake.once({ holdAfter: 1 })
      const before = requestsIn(await usageRows('gpt-fake'))
      const controller = new AbortController()
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'gpt-fake', messages, stream: true }),
        signal: controller.signal,
      })
      expect(response.status).toBe(200)
      const reader = response.body!.getReader()
      let seen = ''
      while (!seen.includes('Hello')) seen += new TextDecoder().decode((await reader.read()).value)
      const upstream = fake.last()
      const abortedAt = Date.now()
      controller.abort()
      await Promise.race([upstream.closed, new Promise((r) => setTimeout(r, 1000))])
      expect(upstream.aborted).toBe(true)
      expect(Date.now() - abortedAt).toBeLessThan(1000)
      // the words already produced are still accounted for
      await expect
        .poll(async () => requestsIn(await usageRows('gpt-fake')), { timeout: 1000 })
        .toBe(before + 1)

      expect((await fetch(`${base}/health`)).status).toBe(200)
      const again = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'gpt-fake', messages }),
      })
      expect(((await again.json()) as any).choices[0].message.content).toBe(FAKE_TEXT)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
