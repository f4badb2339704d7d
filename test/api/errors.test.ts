import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

const auth = { authorization: `Bearer ${PROJECT_KEY}` }
const json = { ...auth, 'content-type': 'application/json' }
const user = [{ role: 'user', content: 'hi' }]

type ErrorShape = { message: string; type: string; param: string | null; code: string | null }

/** Sends a request and checks the error envelope's exact layout before returning it. */
async function errorOf(
  path: string,
  init: RequestInit = {},
  app: TestApp = t,
): Promise<{ status: number; error: ErrorShape; headers: Headers }> {
  const response = await app.fetch(`http://plinth.test${path}`, init)
  const text = await response.text()
  const body = JSON.parse(text)
  // errors.md section 1: pretty-printed with two spaces, keys message, type, param, code in order
  expect(text).toBe(JSON.stringify(body, null, 2))
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error)).toEqual(['message', 'type', 'param', 'code'])
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return { status: response.status, error: body.error, headers: response.headers }
}

function chat(body: unknown) {
  return errorOf('/v1/chat/completions', {
    method: 'POST',
    headers: json,
    body: JSON.stringify(body),
  })
}

describe('routing errors', () => {
  it('an unknown path is 404 Invalid URL with the method and path', async () => {
    expect(await errorOf('/v1/nope', { headers: auth })).toMatchObject({
      status: 404,
      error: {
        message: 'Invalid URL (GET /v1/nope)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
    const deep = await errorOf('/v1/chat/completions/chat/completions', {
      method: 'POST',
      headers: json,
      body: '{}',
    })
    expect(deep.error.message).toBe('Invalid URL (POST /v1/chat/completions/chat/completions)')
    // without a key too: an unknown route is not an authentication question
    expect((await errorOf('/chat/completions', { method: 'POST' })).error.message).toBe(
      'Invalid URL (POST /chat/completions)',
    )
    expect((await errorOf('/')).error.message).toBe('Invalid URL (GET /)')
  })

  it('a known path with another method is 404 Invalid URL too, never 405', async () => {
    for (const [method, path] of [
      ['PUT', '/v1/chat/completions'],
      ['PATCH', '/v1/models'],
      ['DELETE', '/v1/embeddings'],
      ['GET', '/v1/completions'],
    ]) {
      const { status, error } = await errorOf(path, { method, headers: auth })
      expect(status).toBe(404)
      expect(error.message).toBe(`Invalid URL (${method} ${path})`)
    }
  })
})

describe('request body errors', () => {
  it('malformed JSON is 400 with the C1 message', async () => {
    for (const body of ['{"model": "test-echo",', 'not json', '', '{"a":1}{']) {
      const { status, error } = await errorOf('/v1/chat/completions', {
        method: 'POST',
        headers: json,
        body,
      })
      expect(status, body).toBe(400)
      expect(error).toEqual({
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        type: 'invalid_request_error',
        param: null,
        code: null,
      })
    }
  })

  it('a JSON body that is not an object is a 400', async () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true']) {
      const { status, error } = await errorOf('/v1/chat/completions', {
        method: 'POST',
        headers: json,
        body,
      })
      expect(status, body).toBe(400)
      expect(error.type).toBe('invalid_request_error')
    }
  })

  it('a body over the limit is 413 with the F4 message', async () => {
    const small = await createTestApp({ server: { bodyLimitBytes: 1024 } })
    try {
      const body = JSON.stringify({
        model: 'test-echo',
        messages: [{ role: 'user', content: 'x'.repeat(2000) }],
      })
      const declared = await errorOf(
        '/v1/chat/completions',
        { method: 'POST', headers: { ...json, 'content-length': String(body.length) }, body },
        small,
      )
      expect(declared.status).toBe(413)
      expect(declared.error).toEqual({
        message: `Maximum content size limit (1024) exceeded (${body.length} bytes read)`,
        type: 'server_error',
        param: null,
        code: null,
      })
      // without a content-length, the limit holds while reading
      const streamed = await errorOf(
        '/v1/chat/completions',
        {
          method: 'POST',
          headers: json,
          body: new Blob([body]).stream(),
          duplex: 'half',
        } as RequestInit,
        small,
      )
      expect(streamed.status).toBe(413)
      expect(streamed.error.message).toMatch(
        /^Maximum content size limit \(1024\) exceeded \(\d+ bytes read\)$/,
      )
      expect(streamed.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
      // just under the limit is fine
      const fits = await small.fetch('http://plinth.test/v1/chat/completions', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          model: 'test-echo',
          messages: [{ role: 'user', content: 'x'.repeat(900) }],
        }),
      })
      expect(fits.status).toBe(200)
    } finally {
      await small.close()
    }
  })
})

describe('validation messages', () => {
  it('C2: an unknown top-level argument', async () => {
    expect(await chat({ model: 'test-echo', messages: user, top_k: 5 })).toMatchObject({
      status: 400,
      error: { message: 'Unrecognized request argument supplied: top_k', param: null, code: null },
    })
    for (const [path, body] of [
      ['/v1/completions', { model: 'test-echo', prompt: 'x', top_k: 5 }],
      ['/v1/embeddings', { model: 'test-embed', input: 'x', top_k: 5 }],
    ] as const) {
      const { error } = await errorOf(path, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
      })
      expect(error.message).toBe('Unrecognized request argument supplied: top_k')
    }
  })

  it('C3: an unknown nested parameter', async () => {
    expect(
      (
        await chat({
          model: 'test-echo',
          messages: [{ role: 'user', content: 'x', mood: 'happy' }],
        })
      ).error,
    ).toEqual({
      message: "Unknown parameter: 'messages[0].mood'.",
      type: 'invalid_request_error',
      param: 'messages[0].mood',
      code: 'unknown_parameter',
    })
  })

  it('C5 and C7: missing parameters', async () => {
    expect((await chat({ messages: user })).error).toEqual({
      message: 'you must provide a model parameter',
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
    expect((await chat({ model: 'test-echo' })).error).toEqual({
      message: "Missing required parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    })
    expect(
      (await chat({ model: 'test-echo', messages: [{ role: 'tool', content: 'x' }] })).error,
    ).toMatchObject({
      message: "Missing required parameter: 'messages[0].tool_call_id'.",
      param: 'messages[0].tool_call_id',
    })
    expect((await chat({ model: 'test-echo', messages: [{ content: 'x' }] })).error).toMatchObject({
      message: "Missing required parameter: 'messages[0].role'.",
      code: 'missing_required_parameter',
    })
  })

  it('C9: wrong types', async () => {
    expect(
      (await chat({ model: 'test-echo', messages: { role: 'user', content: 'x' } })).error,
    ).toEqual({
      message: "Invalid type for 'messages': expected an array, but got an object instead.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'invalid_type',
    })
    expect(
      (await chat({ model: 'test-echo', messages: user, temperature: 'hot' })).error,
    ).toMatchObject({
      message: "Invalid type for 'temperature': expected a decimal, but got a string instead.",
      code: 'invalid_type',
    })
    expect((await chat({ model: 'test-echo', messages: user, n: 1.5 })).error).toMatchObject({
      message: "Invalid type for 'n': expected an integer, but got a decimal instead.",
      param: 'n',
    })
    expect((await chat({ model: 'test-echo', messages: user, stream: 'yes' })).error).toMatchObject(
      {
        message: "Invalid type for 'stream': expected a boolean, but got a string instead.",
      },
    )
    expect((await chat({ model: 7, messages: user })).error).toMatchObject({
      message: "Invalid type for 'model': expected a string, but got an integer instead.",
      param: 'model',
    })
    const content = await chat({
      model: 'test-echo',
      messages: [{ role: 'user', content: { text: 'x' } }],
    })
    expect(content.error).toMatchObject({ param: 'messages[0].content', code: 'invalid_type' })
    expect(content.error.message).toBe(
      "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.",
    )
  })

  it('C10 and C11: empty arrays and values outside an enum', async () => {
    expect((await chat({ model: 'test-echo', messages: [] })).error).toEqual({
      message:
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'empty_array',
    })
    expect(
      (await chat({ model: 'test-echo', messages: [{ role: 'error', content: 'x' }] })).error,
    ).toEqual({
      message:
        "Invalid value: 'error'. Supported values are: 'system', 'user', 'assistant', 'tool', 'function', and 'developer'.",
      type: 'invalid_request_error',
      param: 'messages[0].role',
      code: 'invalid_value',
    })
    expect(
      (await chat({ model: 'test-echo', messages: user, service_tier: 'turbo' })).error,
    ).toMatchObject({
      message: "Invalid value: 'turbo'. Supported values are: 'auto', 'default', 'flex', and 'priority'.",
      param: 'service_tier',
    })
    const part = await chat({
      model: 'test-echo',
      messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }],
    })
    expect(part.error).toMatchObject({
      param: 'messages[0].content[0].type',
      code: 'invalid_value',
    })
  })

  it('C13, C14: numbers out of range', async () => {
    expect((await chat({ model: 'test-echo', messages: user, n: 130 })).error).toEqual({
      message:
        "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead.",
      type: 'invalid_request_error',
      param: 'n',
      code: 'integer_above_max_value',
    })
    expect(
      (await chat({ model: 'test-echo', messages: user, temperature: 2.5 })).error,
    ).toMatchObject({
      message:
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
      code: 'decimal_above_max_value',
    })
    expect(
      (await chat({ model: 'test-echo', messages: user, temperature: -0.5 })).error,
    ).toMatchObject({
      message:
        "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -0.5 instead.",
      code: 'decimal_below_min_value',
    })
    expect((await chat({ model: 'test-echo', messages: user, n: 0 })).error).toMatchObject({
      message:
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
      code: 'integer_below_min_value',
    })
    expect((await chat({ model: 'test-echo', messages: user, max_tokens: 0 })).error.param).toBe(
      'max_tokens',
    )
    expect(
      (await chat({ model: 'test-echo', messages: user, top_logprobs: 21, logprobs: true })).error,
    ).toMatchObject({
      message:
        "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.",
    })
  })

  it('C15: strings too long', async () => {
    const name = 'f'.repeat(74)
    const tools = [{ type: 'function', function: { name } }]
    expect((await chat({ model: 'test-scripted', messages: user, tools })).error).toEqual({
      message:
        "Invalid 'tools[0].function.name': string too long. Expected a string with maximum length 64, but got a string with length 74 instead.",
      type: 'invalid_request_error',
      param: 'tools[0].function.name',
      code: 'string_above_max_length',
    })
  })

  it('G11-G13: metadata limits', async () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect((await chat({ model: 'test-echo', messages: user, metadata: many })).error).toEqual({
      message:
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
      type: 'invalid_request_error',
      param: 'metadata',
      code: 'object_above_max_properties',
    })
    const longKey = 'k'.repeat(65)
    const key = await chat({ model: 'test-echo', messages: user, metadata: { [longKey]: 'v' } })
    expect(key.error.message).toBe(
      `Invalid property name in 'metadata': '${longKey}' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.`,
    )
    expect(key.error.param).toBe(`metadata.${longKey}`)
    expect(
      (await chat({ model: 'test-echo', messages: user, metadata: { k: 'v'.repeat(513) } })).error,
    ).toEqual({
      message:
        "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
      type: 'invalid_request_error',
      param: 'metadata.k',
      code: 'string_above_max_length',
    })
    expect(
      (await chat({ model: 'test-echo', messages: user, metadata: { tags: ['a'] } })).error,
    ).toEqual({
      message: "Invalid type for 'metadata.tags': expected a string, but got an array instead.",
      type: 'invalid_request_error',
      param: 'metadata.tags',
      code: 'invalid_type',
    })
    // the same limits on update
    const stored = await t.fetch('http://plinth.test/v1/chat/completions', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ model: 'test-echo', messages: user, store: true }),
    })
    const { id } = (await stored.json()) as { id: string }
    const update = await errorOf(`/v1/chat/completions/${id}`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ metadata: many }),
    })
    expect(update.error.code).toBe('object_above_max_properties')
    const missing = await errorOf(`/v1/chat/completions/${id}`, {
      method: 'POST',
      headers: json,
      body: '{}',
    })
    expect(missing.error).toMatchObject({
      message: "Missing required parameter: 'metadata'.",
      param: 'metadata',
    })
  })
})

describe('errors inside a stream', () => {
  it('a failure after the first chunk is a data: {"error":...} event, then the stream ends', async () => {
    const response = await t.fetch('http://plinth.test/v1/chat/completions', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'fail midway' }],
        stream: true,
      }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const text = await response.text()
    const events = text.split('\n\n').filter(Boolean)
    const last = events.at(-1)!
    expect(last.startsWith('data: ')).toBe(true)
    expect(JSON.parse(last.slice(6))).toEqual({
      error: {
        message: 'Scripted failure after two chunks',
        type: 'server_error',
        param: null,
        code: null,
      },
    })
    expect(text).not.toContain('[DONE]')
    expect(text).not.toContain('event:')
  })

  it('a successful stream ends with data: [DONE]', async () => {
    const response = await t.fetch('http://plinth.test/v1/chat/completions', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ model: 'test-echo', messages: user, stream: true }),
    })
    const text = await response.text()
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    for (const event of text.split('\n\n').filter(Boolean)) expect(event).toMatch(/^data: /)
  })
})

describe('no bad input is a 500', () => {
  const garbage: unknown[] = [
    null,
    true,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    'x'.repeat(10_000),
    '',
    [],
    [null],
    {},
    { '': null },
    { nested: { deeper: [[[{}]]] } },
    [[[[[[[[[[]]]]]]]]]],
    { __proto__: { polluted: true } },
    { constructor: { prototype: { x: 1 } } },
  ]
  const fields = [
    'model',
    'messages',
    'temperature',
    'top_p',
    'n',
    'stream',
    'stop',
    'max_tokens',
    'max_completion_tokens',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias',
    'logprobs',
    'top_logprobs',
    'user',
    'seed',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'response_format',
    'stream_options',
    'metadata',
    'store',
    'functions',
    'function_call',
    'service_tier',
  ]

  it('fuzzes every chat field with garbage', async () => {
    const statuses = new Map<string, number>()
    for (const field of fields) {
      for (const value of garbage) {
        const body = { model: 'test-scripted', messages: user, [field]: value }
        for (const stream of [false, true]) {
          const response = await t.fetch('http://plinth.test/v1/chat/completions', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ ...body, ...(field === 'stream' ? {} : { stream }) }),
          })
          await response.text()
          statuses.set(
            `${field}=${JSON.stringify(value)?.slice(0, 40)} stream=${stream}`,
            response.status,
          )
        }
      }
    }
    const bad = [...statuses].filter(
      ([, status]) => status >= 500 || (status >= 300 && status < 400),
    )
    expect(bad).toEqual([])
  })

  it('fuzzes message shapes and nested values', async () => {
    const messages: unknown[] = [
      [{ role: 'user' }],
      [{ role: 'user', content: null }],
      [{ role: 'user', content: [] }],
      [{ role: 'user', content: [null] }],
      [{ role: 'user', content: [{}] }],
      [{ role: 'user', content: [{ type: 'text' }] }],
      [{ role: 'user', content: [{ type: 'image_url', image_url: 5 }] }],
      [{ role: 'user', content: [{ type: 'image_url', image_url: { url: null } }] }],
      [{ role: 'assistant', tool_calls: [{}] }],
      [{ role: 'assistant', tool_calls: null }],
      [
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 5 } }],
        },
      ],
      [{ role: 'tool', tool_call_id: null, content: 'x' }],
      [{ role: 'function', content: 'x' }],
      [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
      [{ role: 'user', content: 'x' }, null],
      [{ role: ['user'], content: 'x' }],
      [{ role: 'user', content: 'word '.repeat(20_000) }],
    ]
    const others: Record<string, unknown>[] = [
      {
        tools: [
          {
            type: 'function',
            function: {
              name: 'f',
              parameters: { type: 'object', properties: { a: { $ref: '#/nowhere' } } },
            },
          },
        ],
      },
      {
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'array', minItems: 1e9 } },
          },
        ],
        tool_choice: 'required',
      },
      {
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'string', minLength: 1e9 } },
          },
        ],
        tool_choice: 'required',
      },
      {
        tools: [{ type: 'function', function: { name: 'f', parameters: deep(500) } }],
        tool_choice: 'required',
      },
      { tools: [{ type: 'function', function: { name: 'f', parameters: 'text' } }] },
      { tools: [{ type: 'function' }] },
      { tools: [{ type: 'code_interpreter' }] },
      { tools: [], tool_choice: 'auto' },
      {
        tool_choice: { type: 'function', function: { name: 'nope' } },
        tools: [{ type: 'function', function: { name: 'f' } }],
      },
      { response_format: { type: 'json_schema' } },
      { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: deep(500) } } },
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'array', minItems: 1e9 } },
        },
      },
      {
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'x',
            schema: { $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/a' } } },
          },
        },
      },
      { response_format: { type: 'xml' } },
      { logit_bias: { '50256': 101 } },
      { logit_bias: { abc: 1 } },
      { stop: ['a', 'b', 'c', 'd', 'e'] },
      { stop: [] },
      { n: 128, max_tokens: 1 },
      { max_tokens: 2 ** 53 },
      { max_tokens: 1e15 },
      { seed: 1e300 },
      { stream_options: { include_usage: 'yes' }, stream: true },
      { stream_options: { include_obfuscation: true }, stream: true },
      { metadata: { a: 1 } },
      { metadata: null, store: true },
    ]
    const statuses: [string, number][] = []
    for (const m of messages) {
      for (const stream of [false, true]) {
        const response = await t.fetch('http://plinth.test/v1/chat/completions', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ model: 'test-scripted', messages: m, stream }),
        })
        await response.text()
        statuses.push([JSON.stringify(m).slice(0, 80), response.status])
      }
    }
    for (const extra of others) {
      for (const stream of [false, true]) {
        const response = await t.fetch('http://plinth.test/v1/chat/completions', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            model: 'test-scripted',
            messages: [{ role: 'user', content: 'json please' }],
            ...extra,
            stream,
          }),
        })
        await response.text()
        statuses.push([JSON.stringify(extra).slice(0, 80), response.status])
      }
    }
    expect(statuses.filter(([, status]) => status >= 500)).toEqual([])
  })

  it('survives deeply nested JSON', async () => {
    for (const depth of [100, 1_000, 100_000]) {
      const nested = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      const bodies = [
        `{"model":"test-scripted","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nested}}}],"tool_choice":"required"}`,
        `{"model":"test-scripted","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${nested}}}}`,
        `{"model":"test-echo","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        `{"model":"test-echo","messages":[{"role":"user","content":"x"}],"logit_bias":${nested}}`,
      ]
      for (const body of bodies) {
        const response = await t.fetch('http://plinth.test/v1/chat/completions', {
          method: 'POST',
          headers: json,
          body,
        })
        await response.text()
        expect(response.status, `${depth}: ${body.slice(0, 100)}`).toBeLessThan(500)
        if (depth > 128) {
          expect(response.status).toBe(400)
          expect(
            (await errorOf('/v1/chat/completions', { method: 'POST', headers: json, body })).error
              .message,
          ).toBe(
            'The JSON body of your request is nested too deeply. Objects and arrays may be nested at most 128 levels.',
          )
        }
      }
    }
  })

  it('fuzzes the other endpoints', async () => {
    const cases: [string, unknown][] = [
      ['/v1/completions', { model: 'test-echo', prompt: [1, 'a'] }],
      ['/v1/completions', { model: 'test-echo', prompt: [[-1]] }],
      ['/v1/completions', { model: 'test-echo', prompt: [1.5] }],
      ['/v1/completions', { model: 'test-echo', prompt: [[]] }],
      ['/v1/completions', { model: 'test-echo', prompt: {} }],
      ['/v1/completions', { model: 'test-echo', prompt: 'x', logprobs: 6 }],
      ['/v1/completions', { model: 'test-echo', prompt: 'x', best_of: 21 }],
      ['/v1/completions', { model: 'test-echo', prompt: 'x', stream: true, best_of: 2 }],
      ['/v1/completions', { model: 'test-echo', prompt: 'x', max_tokens: 2 ** 60 }],
      ['/v1/completions', { model: 'test-echo', prompt: 'x', suffix: 'y' }],
      ['/v1/embeddings', { model: 'test-embed', input: [1, 'a'] }],
      ['/v1/embeddings', { model: 'test-embed', input: [[1.5]] }],
      ['/v1/embeddings', { model: 'test-embed', input: [[-3]] }],
      ['/v1/embeddings', { model: 'test-embed', input: null }],
      ['/v1/embeddings', { model: 'test-embed', input: 'x', dimensions: 1e300 }],
      ['/v1/embeddings', { model: 'test-embed', input: 'x', dimensions: -1 }],
      ['/v1/embeddings', { model: 'test-embed', input: 'x', encoding_format: null }],
      ['/v1/embeddings', { model: 'test-embed', input: Array.from({ length: 2049 }, () => 'x') }],
      ['/v1/embeddings', { model: null, input: 'x' }],
    ]
    const statuses: [string, number][] = []
    for (const [path, body] of cases) {
      const response = await t.fetch(`http://plinth.test${path}`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
      })
      await response.text()
      statuses.push([`${path} ${JSON.stringify(body).slice(0, 80)}`, response.status])
    }
    expect(statuses.filter(([, status]) => status < 400 || status >= 500)).toEqual([])
  })
})

/** `{ type: 'object', properties: { a: { ...depth times } } }` */
function deep(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' }
  for (let i = 0; i < depth; i++) schema = { type: 'object', properties: { a: schema } }
  return schema
}
