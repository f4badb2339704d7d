import { describe, expect, it } from 'vitest'
import { upstreamFailed } from '../../errors.js'
import {
  parseErrorBody,
  transportError,
  upstreamStatusError,
  upstreamStreamError,
} from './errors.js'

const limits = { connectTimeoutMs: 100, timeoutMs: 900 }

describe('upstream error bodies, read loosely', () => {
  it.each([
    [
      'OpenAI',
      {
        error: {
          message: 'bad temp',
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'invalid_value',
        },
      },
      {
        message: 'bad temp',
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'invalid_value',
      },
    ],
    [
      'Ollama',
      { error: 'model "x" not found, try pulling it first' },
      {
        message: 'model "x" not found, try pulling it first',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    ],
    [
      'vLLM',
      {
        object: 'error',
        message: 'max_tokens too large',
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
      { message: 'max_tokens too large', type: 'invalid_request_error', param: null, code: null },
    ],
    [
      'FastAPI string',
      { detail: 'Not authenticated' },
      { message: 'Not authenticated', type: 'invalid_request_error', param: null, code: null },
    ],
    [
      'FastAPI issues',
      { detail: [{ loc: ['body', 'temperature'], msg: 'must be <= 2' }] },
      {
        message: 'temperature: must be <= 2',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    ],
  ])('%s', (_name, body, expected) => {
    expect(parseErrorBody(JSON.stringify(body))).toEqual(expected)
  })

  it('returns nothing for plain text or unknown JSON', () => {
    expect(parseErrorBody('Bad Gateway')).toBeUndefined()
    expect(parseErrorBody('{"ok":false}')).toBeUndefined()
  })
})

describe('upstream statuses → what the client sees', () => {
  it('keeps a structured 4xx with its body (422 becomes 400)', () => {
    const kept = upstreamFailed(
      upstreamStatusError(
        'u',
        400,
        JSON.stringify({
          error: { message: 'nope', type: 'invalid_request_error', param: 'x', code: null },
        }),
      ),
    )
    expect([kept.status, kept.message, kept.param]).toEqual([400, 'nope', 'x'])
    expect(upstreamFailed(upstreamStatusError('u', 422, '{"detail":"bad"}')).status).toBe(400)
  })

  it('turns an unstructured 4xx (wrong baseURL, a proxy) into a 502', () => {
    const error = upstreamFailed(upstreamStatusError('u', 404, '404 page not found'))
    expect(error.status).toBe(502)
    expect(error.message).toContain('404 page not found')
  })

  it("turns 401/403 into a 502 about Plinth's upstream credentials", () => {
    for (const status of [401, 403]) {
      const error = upstreamFailed(
        upstreamStatusError(
          'prod',
          status,
          '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}',
        ),
      )
      expect(error.status).toBe(502)
      expect(error.type).toBe('server_error')
      expect(error.message).toContain("the upstream 'prod' rejected Plinth's credentials")
      expect(error.code).toBeNull()
    }
  })

  it('maps 5xx to 502/503/504', () => {
    expect(upstreamFailed(upstreamStatusError('u', 500, 'boom')).status).toBe(502)
    expect(upstreamFailed(upstreamStatusError('u', 503, '{"error":"loading model"}')).status).toBe(
      503,
    )
    expect(upstreamFailed(upstreamStatusError('u', 504, '')).status).toBe(504)
  })

  it('reads a mid-stream error event', () => {
    const error = upstreamStreamError('u', {
      code: 500,
      message: 'context shift is disabled',
      type: 'server_error',
    })
    expect(error.status).toBe(502)
    expect(upstreamFailed(error).message).toBe(
      'The upstream model server returned an error: context shift is disabled',
    )
  })
})

describe('transport failures', () => {
  const withCode = (code: string) => Object.assign(new Error('x'), { code })

  it('names the upstream, never its address', () => {
    const error = transportError(
      'local',
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:8000'), { code: 'ECONNREFUSED' }),
      undefined,
      limits,
    )
    expect([error.status, error.message]).toEqual([
      502,
      "cannot connect to upstream 'local' (ECONNREFUSED)",
    ])
  })

  it('maps timeouts to 504', () => {
    expect(transportError('u', withCode('UND_ERR_HEADERS_TIMEOUT'), undefined, limits).status).toBe(
      504,
    )
    expect(transportError('u', withCode('UND_ERR_CONNECT_TIMEOUT'), undefined, limits).status).toBe(
      504,
    )
    expect(transportError('u', new Error('aborted'), 'timeout', limits).message).toBe(
      "upstream 'u' did not finish within 900 ms",
    )
  })

  it('finds the code on a cause and maps a dropped socket to 502', () => {
    const error = transportError(
      'u',
      new TypeError('fetch failed', { cause: withCode('UND_ERR_SOCKET') }),
      undefined,
      limits,
    )
    expect([error.status, error.message]).toEqual([
      502,
      "upstream 'u' closed the connection before the answer was complete",
    ])
  })
})
