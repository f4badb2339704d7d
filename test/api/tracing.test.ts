import { createRequire } from 'node:module'
import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTracing, stopTracing, tracing } from '../../src/tracing/tracing.js'
import { startFakeCollector, type CollectedSpan, type FakeCollector } from '../helpers/fake-collector.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { describePg, withPgSchema } from '../helpers/pg.js'
import { poll } from '../helpers/server-process.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Tracing on (docs/operations.md, "Tracing (OpenTelemetry)"): a fake OTLP/HTTP collector receives
// the spans as OTLP/JSON, and a fake OpenAI-compatible upstream shows the traceparent it was sent.

const SERVER = 2
const CLIENT = 3
const ERROR = 2
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'

let collector: FakeCollector
let upstream: FakeUpstream
let t: TestApp
const saved = { ...process.env }

beforeAll(async () => {
  collector = await startFakeCollector()
  upstream = await startFakeUpstream()
  process.env.UPSTREAM_KEY = 'sk-upstream-0123456789'
  const env = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=secret%20token',
    OTEL_SERVICE_NAME: 'plinth-under-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  }
  // the SDK's resource detector reads process.env, as it does in production
  Object.assign(process.env, env)
  await startTracing(process.env)
  t = await createTestApp({
    upstreams: [{ id: 'fake', baseURL: upstream.baseURL, apiKeyEnv: 'UPSTREAM_KEY' }],
    models: [{ id: 'gpt-fake', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'fake-model' }],
  })
  t.ctx.jobs.start()
})
afterAll(async () => {
  await t?.close()
  await stopTracing()
  await upstream?.close()
  await collector?.close()
  process.env = saved
})

/** The spans of one trace once `done` holds for them (the processor exports every 50 ms). */
async function traceOf(traceId: string, done: (spans: CollectedSpan[]) => boolean): Promise<CollectedSpan[]> {
  return poll(async () => collector.spans().filter((s) => s.traceId === traceId), done, `the spans of trace ${traceId}`, 10_000)
}

function chat(model: string, headers: Record<string, string> = {}, body: Record<string, unknown> = {}) {
  return t.fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello.' }], ...body }),
  })
}

const server = (spans: CollectedSpan[]) => spans.find((s) => s.kind === SERVER)

describe('tracing on', () => {
  it('a chat completion is a server span in the caller\'s trace, with auth, provider and storage children', async () => {
    const response = await chat('test-echo', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'vendor=value' })
    expect(response.status).toBe(200)
    const requestId = response.headers.get('x-request-id')
    const spans = await traceOf(TRACE_ID, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.name === 'plinth.usage.flush'))
    const root = server(spans)!
    expect(root.name).toBe('POST /v1/chat/completions')
    expect(root.parentSpanId).toBe(CALLER_SPAN)
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'url.path': '/v1/chat/completions',
      'plinth.request_id': requestId,
      'plinth.project_id': expect.stringMatching(/^proj_/),
      'plinth.key_id': expect.any(String),
      'gen_ai.request.model': 'test-echo',
      'gen_ai.usage.input_tokens': expect.any(Number),
      'gen_ai.usage.output_tokens': expect.any(Number),
    })
    expect(root.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0)
    expect(root.status.code).toBe(0)
    expect(root.resource).toMatchObject({ 'service.name': 'plinth-under-test', 'deployment.environment.name': 'test', 'service.instance.id': expect.any(String) })

    const auth = spans.find((s) => s.name === 'plinth.auth')!
    expect(auth.parentSpanId).toBe(root.spanId)
    const provider = spans.find((s) => s.kind === CLIENT && s.attributes['gen_ai.operation.name'] === 'chat')!
    expect(provider).toMatchObject({ name: 'chat test-echo', parentSpanId: root.spanId })
    expect(provider.attributes).toMatchObject({ 'gen_ai.provider.name': 'test', 'gen_ai.request.model': 'test-echo' })
    const flush = spans.find((s) => s.name === 'plinth.usage.flush')!
    expect(flush.parentSpanId).toBe(root.spanId)
    expect(flush.attributes).toMatchObject({ 'plinth.usage.rows': 1, 'db.system.name': 'sqlite' })
    // the key was looked up in the database under the auth span (the first request with it)
    const lookup = spans.find((s) => s.attributes['db.collection.name'] === 'api_keys')
    expect(lookup?.parentSpanId).toBe(auth.spanId)
    expect(lookup?.attributes['db.query.text']).toMatch(/select/i)
    // children lie within their parent
    for (const child of [auth, provider]) {
      expect(child.startNanos).toBeGreaterThanOrEqual(root.startNanos)
      expect(child.endNanos).toBeLessThanOrEqual(root.endNanos)
    }
    expect(collector.requests[0].headers['x-collector-token']).toBe('secret token')
    expect(collector.requests[0].path).toBe('/v1/traces')
  })

  it('an OpenAI-compatible upstream gets the provider span as its parent, streamed or not', async () => {
    for (const stream of [false, true]) {
      upstream.reset()
      const traceId = (stream ? 'b' : 'a').repeat(32)
      const response = await chat('gpt-fake', { traceparent: `00-${traceId}-${CALLER_SPAN}-01` }, { stream })
      expect(response.status).toBe(200)
      await response.text()
      const spans = await traceOf(traceId, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.kind === CLIENT && x.attributes['gen_ai.operation.name']))
      const provider = spans.find((s) => s.kind === CLIENT && s.attributes['gen_ai.operation.name'] === 'chat')!
      expect(provider.parentSpanId).toBe(server(spans)!.spanId)
      expect(provider.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai-compatible:fake', 'gen_ai.request.model': 'fake-model', 'plinth.model': 'gpt-fake' })
      expect(provider.status.code).toBe(0)
      expect(upstream.last().headers.traceparent).toBe(`00-${traceId}-${provider.spanId}-01`)
    }
  })

  it('an upstream failure marks the provider span as an error, with OpenAI\'s error type', async () => {
    const traceId = 'c'.repeat(32)
    upstream.once({ error: { status: 400, body: { error: { message: 'Bad thing.', type: 'invalid_request_error', param: null, code: 'bad_thing' } } } })
    const response = await chat('gpt-fake', { traceparent: `00-${traceId}-${CALLER_SPAN}-01` })
    expect(response.status).toBe(400)
    const spans = await traceOf(traceId, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.kind === CLIENT && x.attributes['gen_ai.operation.name']))
    const provider = spans.find((s) => s.kind === CLIENT && s.attributes['gen_ai.operation.name'] === 'chat')!
    expect(provider.status.code).toBe(ERROR)
    expect(provider.attributes).toMatchObject({ 'error.type': 'bad_thing', 'openai.error.code': 'bad_thing', 'openai.error.type': 'invalid_request_error' })
    expect(provider.events.map((e) => e.name)).toContain('exception')
    const root = server(spans)!
    expect(root.attributes).toMatchObject({ 'http.response.status_code': 400, 'error.type': 'bad_thing', 'openai.error.code': 'bad_thing' })
  })

  it('a 401 is a server span with OpenAI\'s error, and a failed auth span', async () => {
    const traceId = 'd'.repeat(32)
    const response = await chat('test-echo', { traceparent: `00-${traceId}-${CALLER_SPAN}-01`, authorization: 'Bearer sk-proj-wrong-000000000000000000000' })
    expect(response.status).toBe(401)
    const spans = await traceOf(traceId, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.name === 'plinth.auth'))
    const root = server(spans)!
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 401,
      'error.type': 'invalid_api_key',
      'openai.error.type': 'invalid_request_error',
      'openai.error.code': 'invalid_api_key',
    })
    // 4xx are the caller's errors: the server span's status stays unset (HTTP semantic conventions)
    expect(root.status.code).toBe(0)
    const auth = spans.find((s) => s.name === 'plinth.auth')!
    expect(auth.status.code).toBe(ERROR)
    expect(auth.attributes['error.type']).toBe('invalid_api_key')
    expect(auth.parentSpanId).toBe(root.spanId)
  })

  it('a request without traceparent starts a trace of its own; Hono routes are traced too', async () => {
    const before = new Set(collector.spans().map((s) => s.traceId))
    const response = await t.fetch(`${t.url}/v1/models/no-such-model`, { headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(response.status).toBe(404)
    const spans = await poll(async () => collector.spans().filter((s) => !before.has(s.traceId) && s.attributes['http.route'] === '/v1/models/:model'), (s) => s.length > 0, 'the models span', 10_000)
    expect(spans[0]).toMatchObject({ name: 'GET /v1/models/:model', parentSpanId: undefined })
    expect(spans[0].attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': 'model_not_found', 'url.path': '/v1/models/no-such-model' })
  })

  it('a malformed traceparent is ignored: a new trace starts', async () => {
    const response = await chat('test-echo', { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` })
    expect(response.status).toBe(200)
    const requestId = response.headers.get('x-request-id')
    const spans = await poll(async () => collector.spans().filter((s) => s.attributes['plinth.request_id'] === requestId), (s) => s.length > 0, 'the span', 10_000)
    expect(spans[0].traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(spans[0].traceId).not.toBe('0'.repeat(32))
    expect(spans[0].parentSpanId).toBeUndefined()
  })

  it('a batch created in a request runs outside its trace: the job\'s model calls are no spans of it', async () => {
    const client = t.client()
    const lines = [0, 1, 2].map((i) => JSON.stringify({ custom_id: `line-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: `line ${i}` }] } }))
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'batch.jsonl'), purpose: 'batch' })
    const traceId = 'e'.repeat(32)
    // the create request wakes the job runner (docs/batches.md)
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { headers: { traceparent: `00-${traceId}-${CALLER_SPAN}-01` } })
    await poll(() => client.batches.retrieve(created.id), (b) => b.status === 'completed', 'the batch', 20_000)
    const spans = await traceOf(traceId, (s) => s.some((x) => x.kind === SERVER))
    expect(server(spans)!.name).toBe('POST /v1/batches')
    // a later request's trace is its own too: the runner did not carry the first one along
    await chat('test-echo')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(collector.spans().filter((s) => s.traceId === traceId && s.attributes['gen_ai.operation.name'])).toEqual([])
  })

  it('registers a tracer provider and a context manager (what tracing-off.test.ts finds absent)', () => {
    expect(tracing).toBeDefined()
    const global = (globalThis as Record<symbol, Record<string, unknown>>)[Symbol.for('opentelemetry.js.api.1')]
    expect(Object.keys(global)).toEqual(expect.arrayContaining(['trace', 'context']))
    const loaded = Object.keys(createRequire(import.meta.url).cache)
    expect(loaded.some((file) => file.includes('@opentelemetry/sdk-trace/'))).toBe(true)
  })
})

describePg('tracing on, PostgreSQL', () => {
  it('the usage flush is a span with its statements under it', async () => {
    const schema = withPgSchema('tracing')
    const pgApp = await createTestApp({}, { storage: schema.config })
    try {
      const traceId = 'f'.repeat(32)
      const response = await pgApp.fetch(`${pgApp.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${CALLER_SPAN}-01` },
        body: JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content: 'hello' }] }),
      })
      expect(response.status).toBe(200)
      const spans = await traceOf(traceId, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.attributes['db.collection.name'] === 'usage_records'))
      const flush = spans.find((s) => s.name === 'plinth.usage.flush')!
      expect(flush.attributes['db.system.name']).toBe('postgresql')
      const insert = spans.find((s) => s.attributes['db.collection.name'] === 'usage_records')!
      expect(insert).toMatchObject({ name: 'INSERT usage_records', kind: CLIENT, parentSpanId: flush.spanId })
      expect(insert.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT' })
      // the values are parameters: the statement's text has placeholders, never the rows
      expect(insert.attributes['db.query.text']).toMatch(/\$1/)
    } finally {
      await pgApp.close()
      await schema.drop()
    }
  })
})
