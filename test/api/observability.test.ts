import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setLogFormat, setLogLevel } from '../../src/logger.js'
import { parsePrometheus, sampleValue, type Exposition } from '../helpers/prometheus.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

async function scrape(key = ADMIN_KEY): Promise<Exposition> {
  const response = await t.fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  return parsePrometheus(await response.text())
}

const value = sampleValue

describe('GET /metrics', () => {
  it('needs an admin key: none is a 401, a project key a 403', async () => {
    expect((await t.fetch(`${t.url}/metrics`)).status).toBe(401)
    expect((await t.fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${PROJECT_KEY}` } })).status).toBe(403)
  })

  it('counts requests by route, status, model and project, and tokens, exactly, after known traffic', async () => {
    const before = await scrape()
    const client = t.client()
    const answers = []
    for (let i = 0; i < 3; i++) answers.push(await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: `hello ${i}` }] }))
    const stream = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'streamed' }], stream: true, stream_options: { include_usage: true } })
    let streamedUsage = { prompt_tokens: 0, completion_tokens: 0 }
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage
    await client.models.list()
    await client.models.retrieve('no-such-model').catch(() => undefined)
    const after = await scrape()
    const labels = { route: '/v1/chat/completions', method: 'POST', status: '200', model: 'test-echo' }
    const delta = (name: string, l: Record<string, string>) => value(after, name, l) - value(before, name, l)
    expect(delta('plinth_http_requests_total', labels)).toBe(4)
    expect(delta('plinth_http_requests_total', { route: '/v1/models', method: 'GET', status: '200' })).toBe(1)
    expect(delta('plinth_http_requests_total', { route: '/v1/models/:model', method: 'GET', status: '404' })).toBe(1)
    const input = answers.reduce((sum, a) => sum + a.usage!.prompt_tokens, 0) + streamedUsage.prompt_tokens
    const output = answers.reduce((sum, a) => sum + a.usage!.completion_tokens, 0) + streamedUsage.completion_tokens
    expect(delta('plinth_tokens_total', { model: 'test-echo', direction: 'input' })).toBe(input)
    expect(delta('plinth_tokens_total', { model: 'test-echo', direction: 'output' })).toBe(output)
    expect(delta('plinth_time_to_first_token_seconds_count', { model: 'test-echo' })).toBe(1)
    expect(delta('plinth_http_request_duration_seconds_count', { route: '/v1/chat/completions', method: 'POST', status: '200' })).toBe(4)
    expect(after.types.get('plinth_http_request_duration_seconds')).toBe('histogram')
    const requests = after.samples.filter((s) => s.name === 'plinth_http_requests_total' && s.labels.route === '/v1/chat/completions')
    expect(requests.map((s) => s.labels.project)).toEqual([expect.stringMatching(/^proj_/)])
  })

  it('exposes the event loop lag, the job queues and the database', async () => {
    const families = await scrape()
    const names = [...families.types.keys()]
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'plinth_jobs', 'plinth_job_oldest_age_seconds', 'plinth_sqlite_file_bytes']) {
      expect(names).toContain(name)
    }
    expect(value(families, 'plinth_sqlite_file_bytes', { file: 'database' })).toBeGreaterThan(0)
  })

  it('counts rate limit rejections', async () => {
    const limited = await createTestApp({ rateLimits: { models: { 'test-echo': { requestsPerMinute: 1 } } } })
    try {
      const client = limited.client()
      await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'a' }] })
      await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'b' }] }).catch(() => undefined)
      const response = await limited.fetch(`${limited.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      const families = parsePrometheus(await response.text())
      expect(value(families, 'plinth_rate_limit_rejections_total', { model: 'test-echo', limit: 'rpm' })).toBeGreaterThanOrEqual(1)
      expect(value(families, 'plinth_http_requests_total', { route: '/v1/chat/completions', status: '429' })).toBeGreaterThanOrEqual(1)
    } finally {
      await limited.close()
    }
  })
})

describe('GET /ready and /health', () => {
  it('/health says the process is alive; /ready checks the database and the job runner', async () => {
    expect(await (await t.fetch(`${t.url}/health`)).json()).toEqual({ status: 'ok' })
    // the test app never starts its runner: not ready, and says why
    const unready = await t.fetch(`${t.url}/ready`)
    expect(unready.status).toBe(503)
    expect(await unready.json()).toEqual({
      status: 'unready',
      checks: [{ name: 'database', ok: true }, { name: 'jobs', ok: false, detail: 'the job runner is not running' }],
    })
    t.ctx.jobs.start()
    const ready = await t.fetch(`${t.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', checks: [{ name: 'database', ok: true }, { name: 'jobs', ok: true }] })
  })
})

describe('the access log', () => {
  it('writes one line per request: method, route, status, ms, request id, project, key, model, tokens', async () => {
    const lines: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write
    setLogLevel('info')
    setLogFormat('json')
    try {
      const completion = await t.client().chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'log me' }] })
      await t.fetch(`${t.url}/v1/models`)
      await new Promise((resolve) => setTimeout(resolve, 20))
      // access lines of one turn leave in one write
      const access = lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l)).filter((l) => l.log === 'access')
      expect(access).toHaveLength(2)
      // pino's own line: its level, time, pid and hostname, then the access log's binding
      expect(Object.keys(access[0]).slice(0, 6)).toEqual(['level', 'time', 'pid', 'hostname', 'log', 'method'])
      expect(access[0]).toMatchObject({
        level: 30,
        pid: process.pid,
        method: 'POST',
        route: '/v1/chat/completions',
        path: '/v1/chat/completions',
        status: 200,
        request_id: expect.stringMatching(/^req_/),
        project: expect.stringMatching(/^proj_/),
        key_id: expect.any(String),
        model: 'test-echo',
        tokens_in: completion.usage!.prompt_tokens,
        tokens_out: completion.usage!.completion_tokens,
        msg: 'POST /v1/chat/completions 200',
      })
      expect(access[0].ms).toBeGreaterThan(0)
      expect(access[1]).toMatchObject({ method: 'GET', route: '/v1/models', status: 401 })
      expect(JSON.stringify(access)).not.toContain(PROJECT_KEY)
    } finally {
      process.stdout.write = write
      setLogLevel('silent')
    }
  })

  it('logs a request whose client left before the answer once, as 499', async () => {
    const lines: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write
    setLogLevel('info')
    setLogFormat('json')
    try {
      // half a body, then the client is gone: the fast path is still reading when it leaves
      const { port, hostname } = new URL(t.url)
      const socket = net.connect(Number(port), hostname)
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${PROJECT_KEY}\r\n` +
          'content-type: application/json\r\ncontent-length: 200\r\n\r\n{"model":"test-echo",',
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.destroy()
      await new Promise((resolve) => setTimeout(resolve, 100))
      const access = lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l)).filter((l) => l.log === 'access')
      expect(access).toHaveLength(1)
      expect(access[0]).toMatchObject({ method: 'POST', route: '/v1/chat/completions', status: 499 })
    } finally {
      process.stdout.write = write
      setLogLevel('silent')
    }
  })
})
