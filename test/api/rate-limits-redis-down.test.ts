import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateLimiterFallbacks } from '../../src/metrics.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// rateLimits.onRedisDown (issue 20): what the limits do while Redis does not answer. Redis here is
// a port nothing listens on (connection refused), the state of a Redis that is down; the chaos
// test (test/multinode/) restarts a real one.

const DOWN = 'redis://127.0.0.1:1'
const chat = (app: TestApp) =>
  app.fetch('http://plinth.test/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] }),
  })

const limits = (onRedisDown: 'local' | 'refuse') => ({
  rateLimits: { redisUrl: DOWN, onRedisDown, models: { 'test-echo': { requestsPerMinute: 3 } } },
})

describe("rateLimits.onRedisDown: 'local' (the default)", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ rateLimits: { redisUrl: DOWN, models: { 'test-echo': { requestsPerMinute: 3 } } } })
  })
  afterAll(() => app?.close())

  it('counts in this process: the limit still holds, and the fallback is counted', async () => {
    const before = (await rateLimiterFallbacks.get()).values[0]?.value ?? 0
    const statuses: number[] = []
    const limitHeaders: (string | null)[] = []
    for (let i = 0; i < 4; i++) {
      const res = await chat(app)
      statuses.push(res.status)
      limitHeaders.push(res.headers.get('x-ratelimit-limit-requests'))
      await res.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(limitHeaders).toEqual(['3', '3', '3', '3'])
    const after = (await rateLimiterFallbacks.get()).values[0]?.value ?? 0
    expect(after - before).toBe(4)
    const metrics = await (await app.fetch('http://plinth.test/metrics', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
    expect(metrics).toMatch(/^plinth_rate_limiter_fallback_total \d+/m)
  })

  it('GET /ready reports Redis down', async () => {
    const res = await app.fetch('http://plinth.test/ready')
    expect(res.status).toBe(503)
    const body = (await res.json()) as { checks: { name: string; ok: boolean }[] }
    expect(body.checks.find((c) => c.name === 'redis')?.ok).toBe(false)
    expect(body.checks.find((c) => c.name === 'database')?.ok).toBe(true)
  })
})

describe("rateLimits.onRedisDown: 'refuse'", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp(limits('refuse'))
  })
  afterAll(() => app?.close())

  it('answers 503 at once, OpenAI-shaped, with x-should-retry: true', async () => {
    const started = performance.now()
    const res = await chat(app)
    expect(performance.now() - started).toBeLessThan(1500)
    expect(res.status).toBe(503)
    expect(res.headers.get('x-should-retry')).toBe('true')
    expect(res.headers.get('retry-after')).toBe('1')
    const body = (await res.json()) as { error: Record<string, unknown> }
    expect(body.error).toEqual({
      message: expect.stringMatching(/^The server cannot reach its rate limiter right now\. .*\(Please include the request ID req_\w+ in your message\.\)$/),
      type: 'server_error',
      param: null,
      code: 'service_unavailable',
    })
  })

  it('the SDK sees an InternalServerError it would retry', async () => {
    const client = app.client(PROJECT_KEY, { maxRetries: 0 })
    const error = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect((error as { status?: number }).status).toBe(503)
    expect((error as { constructor: { name: string } }).constructor.name).toBe('InternalServerError')
  })
})
