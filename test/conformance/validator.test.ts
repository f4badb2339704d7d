import { describe, expect, it } from 'vitest'
import { readOperations } from '../helpers/spec-files.js'
import { findOperation, validateResponse, validateStreamEvent } from '../helpers/spec.js'
import { isKnown, ViolationRegistry, type Violation } from '../helpers/spec-violations.js'
import { validatingFetch } from '../helpers/validating-fetch.js'

// The machinery must not pass silently: these feed it deliberately wrong payloads.

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'test-echo',
  choices: [
    {
      index: 0,
      finish_reason: 'stop',
      logprobs: null,
      message: { role: 'assistant', content: 'hi', refusal: null },
    },
  ],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
}
const chunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'test-echo',
  choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null, logprobs: null }],
}
const paths = (errors: { path: string }[]) => errors.map((e) => e.path)

describe('the spec validator', () => {
  it('accepts a correct chat completion, null where the spec says nullable', () => {
    expect(validateResponse('createChatCompletion', 200, completion)).toEqual([])
    expect(validateStreamEvent('createChatCompletion', chunk)).toEqual([])
  })

  it('catches a wrong chat completion, naming each field', () => {
    const wrong = {
      ...completion,
      created: undefined,
      choices: [
        {
          index: 0,
          finish_reason: 'done',
          logprobs: null,
          message: { role: 'assistant', content: 42 },
        },
      ],
    }
    expect(paths(validateResponse('createChatCompletion', 200, wrong)).sort()).toEqual(
      [
        '/choices/0/finish_reason',
        '/choices/0/message/content',
        '/choices/0/message/refusal',
        '/created',
      ].sort(),
    )
  })

  it('catches a wrong stream chunk', () => {
    const wrong = {
      ...chunk,
      object: 'chat.completion',
      choices: [{ index: 0, delta: { content: 'hi' } }],
    }
    expect(paths(validateStreamEvent('createChatCompletion', wrong)).sort()).toEqual([
      '/choices/0/finish_reason',
      '/object',
    ])
  })

  it('catches error bodies that are not exactly OpenAI-shaped', () => {
    const ok = { error: { message: 'm', type: 'invalid_request_error', param: null, code: null } }
    expect(validateResponse('listModels', 404, ok)).toEqual([])
    expect(
      paths(validateResponse('listModels', 400, { error: { message: 'm', type: 'x' } })).sort(),
    ).toEqual(['/error/code', '/error/param'])
    expect(
      paths(validateResponse('listModels', 500, { error: { ...ok.error, status: 500 } })),
    ).toEqual(['/error/status'])
    expect(paths(validateResponse('listModels', 400, { message: 'm' }))).toEqual(['/error'])
    expect(
      paths(validateStreamEvent('createChatCompletion', { error: { message: 'boom' } })).length,
    ).toBeGreaterThan(0)
  })

  it('catches a status or a body the operation does not have', () => {
    expect(validateResponse('listModels', 201, { object: 'list', data: [] })).toHaveLength(1)
    expect(validateResponse('createSpeech', 200, {})).toHaveLength(1)
    expect(validateStreamEvent('listModels', {})[0].message).toMatch(/STREAM_SCHEMAS/)
  })

  it('maps request paths to operations, literal segments first', () => {
    expect(findOperation('POST', '/v1/chat/completions')).toBe('createChatCompletion')
    expect(findOperation('GET', '/v1/chat/completions/chatcmpl-1/messages')).toBe(
      'getChatCompletionMessages',
    )
    expect(findOperation('POST', '/v1/threads/runs')).toBe('createThreadAndRun')
    expect(findOperation('POST', '/v1/threads/thread_1')).toBe('modifyThread')
    expect(findOperation('POST', '/v1/organization/certificates/activate')).toBe(
      'activateOrganizationCertificates',
    )
    expect(findOperation('GET', '/v1/assistants/asst_1/files')).toBe('listAssistantFiles')
    expect(findOperation('GET', '/v1/nope')).toBeUndefined()
    expect(findOperation('PUT', '/v1/models')).toBeUndefined()
    for (const op of readOperations())
      expect(findOperation(op.method, '/v1' + op.path)).toBe(op.operationId)
  })

  it('validates Assistants v1 shapes against the 2024-04-15 spec', () => {
    const assistant = {
      id: 'asst_1',
      object: 'assistant',
      created_at: 1700000000,
      name: null,
      description: null,
      model: 'test-echo',
      instructions: null,
      tools: [],
      metadata: null,
    }
    expect(findOperation('GET', '/v1/assistants/asst_1', { version: 'v1' })).toBe('getAssistant')
    expect(validateResponse('getAssistant', 200, assistant)).toEqual([])
    expect(paths(validateResponse('getAssistant', 200, assistant, { version: 'v1' }))).toEqual([
      '/file_ids',
    ])
  })

  it('fails loudly when the spec files are missing', () => {
    const saved = process.env.SPEC_DIR
    process.env.SPEC_DIR = '/nonexistent/shared/openapi'
    try {
      expect(() => readOperations()).toThrow(/OpenAI spec file not found: \/nonexistent/)
    } finally {
      if (saved === undefined) delete process.env.SPEC_DIR
      else process.env.SPEC_DIR = saved
    }
  })

  it('matches known violations on exact (operationId, path), indices as *', () => {
    const v: Violation = {
      operationId: 'op',
      request: 'GET /v1/x',
      status: 200,
      where: 'body',
      path: '/data/3/role',
      message: '',
    }
    expect(isKnown(v, [{ operationId: 'op', path: '/data/*/role', note: '' }])).toBe(true)
    expect(isKnown(v, [{ operationId: 'op', path: '/data/*', note: '' }])).toBe(false)
    expect(isKnown(v, [{ operationId: 'other', path: '/data/*/role', note: '' }])).toBe(false)
    expect(
      isKnown(v, [{ operationId: 'op', path: '/data/*/role', where: 'stream', note: '' }]),
    ).toBe(false)
  })
})

describe('the validating fetch', () => {
  const sse = (events: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const e of events) controller.enqueue(new TextEncoder().encode(e))
        controller.close()
      },
    })

  it('records JSON violations and the operations exercised, returning the response untouched', async () => {
    const registry = new ViolationRegistry()
    const stub = async () => Response.json({ object: 'list', data: [{ id: 'm' }] })
    const res = await validatingFetch(stub as typeof fetch, registry)('http://x/v1/models')
    expect(await res.json()).toEqual({ object: 'list', data: [{ id: 'm' }] })
    await registry.settle()
    expect(registry.exercised.get('listModels')).toBe(1)
    expect(
      registry
        .take()
        .map((v) => v.path)
        .sort(),
    ).toEqual(['/data/0/created', '/data/0/object', '/data/0/owned_by'])
  })

  it('checks the v1-only operations against the v1 spec, header or not', async () => {
    const registry = new ViolationRegistry()
    const stub = async () => Response.json({ object: 'list', data: [] })
    await validatingFetch(stub as typeof fetch, registry)('http://x/v1/assistants/asst_1/files')
    await registry.settle()
    expect(registry.exercised.get('listAssistantFiles')).toBe(1)
    // (the v1 file also requires an 'items' key on this list)
    const found = registry.take().map((v) => v.path)
    expect(found).toEqual(['/items', '/first_id', '/last_id', '/has_more'])
  })

  it('passes SSE through byte for byte and checks each data payload, [DONE] aside', async () => {
    const registry = new ViolationRegistry()
    // split mid-line and mid-\r\n on purpose
    const events = [
      `data: ${JSON.stringify(chunk)}\r`,
      `\n\r\ndata: {"id":1}\n`,
      '\ndata: [DONE]\n\n',
    ]
    const stub = async () =>
      new Response(sse(events), { headers: { 'content-type': 'text/event-stream' } })
    const res = await validatingFetch(stub as typeof fetch, registry)(
      'http://x/v1/chat/completions',
      { method: 'POST' },
    )
    expect(await res.text()).toBe(events.join(''))
    await registry.settle()
    const found = registry.take()
    expect(
      found.every((v) => v.where === 'stream' && v.operationId === 'createChatCompletion'),
    ).toBe(true)
    expect(found.map((v) => v.path)).toContain('/id')
  })

  it('cancels the server stream when the client stops reading', async () => {
    const registry = new ViolationRegistry()
    let cancelled = false
    let sent = 0
    const long = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++sent > 1000) return controller.close()
        controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(chunk)}\n\n`))
      },
      cancel() {
        cancelled = true
      },
    })
    const stub = async () =>
      new Response(long, { headers: { 'content-type': 'text/event-stream' } })
    const res = await validatingFetch(stub as typeof fetch, registry)(
      'http://x/v1/chat/completions',
      { method: 'POST' },
    )
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    await registry.settle(500)
    expect({ cancelled, sent: sent < 1000 }).toEqual({ cancelled: true, sent: true })
    expect(registry.take()).toEqual([])
  })
})
