import http from 'node:http'
import { serve } from '@hono/node-server'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, createListener } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { describeRedis, redisPrefix, redisTestUrl } from '../helpers/redis.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, SCRIPT_FILE, type TestApp } from '../helpers/test-context.js'
import { validatingFetch } from '../helpers/validating-fetch.js'

// Project rate limits through the admin API (list, modify), and their enforcement on inference:
// bursts, OpenAI's 429 messages, retry-after and the x-ratelimit-* headers with true values.

const RL_HELP = "See this project's limits on Plinth's dashboard at /dashboard, or with GET /v1/organization/projects/PROJECT_ID/rate_limits."

/** Go duration text → ms (`6m0s`, `26.604s`, `644ms`, `0s`). */
function durationMs(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:([\d.]+)s)?(?:(\d+)ms)?$/.exec(text)
  if (!match) throw new Error(`not a Go duration: ${text}`)
  const [, h, m, s, ms] = match
  return Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0)
}

function limitHeaders(response: Response) {
  const get = (name: string) => response.headers.get(name)
  return {
    limitRequests: Number(get('x-ratelimit-limit-requests')),
    remainingRequests: Number(get('x-ratelimit-remaining-requests')),
    resetRequests: durationMs(get('x-ratelimit-reset-requests') ?? 'missing'),
    limitTokens: Number(get('x-ratelimit-limit-tokens')),
    remainingTokens: Number(get('x-ratelimit-remaining-tokens')),
    resetTokens: durationMs(get('x-ratelimit-reset-tokens') ?? 'missing'),
  }
}

const chatBody = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], ...extra })

let t: TestApp

/** The SDK's admin resources authenticate with `adminAPIKey`. */
const admin = (app: TestApp) => app.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin
let projectId: string
let orgId: string

function post(path: string, body: string, key = PROJECT_KEY) {
  return t.fetch(`http://plinth.test/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  })
}

function setLimits(model: string, body: Record<string, number>, app = t) {
  return admin(app).organization.projects.rateLimits.updateRateLimit(`rl-${model}`, {
    project_id: projectId,
    ...body,
  })
}

beforeAll(async () => {
  t = await createTestApp()
  projectId = t.ctx.bootstrap.created!.project.id
  orgId = t.ctx.organization.id
})
afterAll(async () => t.close())

// every served model, the offline engines' included, sorted by id
const ALL = ['rl-flite-speech', 'rl-lexicon-moderation', 'rl-pocketsphinx-en-us', 'rl-test-echo', 'rl-test-embed', 'rl-test-image', 'rl-test-scripted']

describe('GET /organization/projects/{project_id}/rate_limits', () => {
  it('lists one rate limit per model, with the configured defaults', async () => {
    const page = await admin(t).organization.projects.rateLimits.listRateLimits(projectId)
    expect(page.data.map((r) => r.id)).toEqual(ALL)
    expect(page.data.find((r) => r.id === 'rl-test-echo')).toEqual({
      object: 'project.rate_limit',
      id: 'rl-test-echo',
      model: 'test-echo',
      max_requests_per_1_minute: 1_000_000,
      max_tokens_per_1_minute: 1_000_000_000,
    })
  })

  it('pages with limit, after and before', async () => {
    const url = `http://plinth.test/v1/organization/projects/${projectId}/rate_limits`
    const get = async (query: string) =>
      (await t.fetch(`${url}?${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()
    expect(await get('limit=2')).toMatchObject({ first_id: ALL[0], last_id: ALL[1], has_more: true })
    expect(await get('limit=2&after=rl-test-embed')).toMatchObject({ first_id: 'rl-test-image', last_id: 'rl-test-scripted', has_more: false })
    expect(await get('limit=1&before=rl-test-scripted')).toMatchObject({ first_id: 'rl-test-image', has_more: true })
    // the SDK's auto-pagination walks them all
    const all = []
    for await (const r of admin(t).organization.projects.rateLimits.listRateLimits(projectId, { limit: 1 })) all.push(r.id)
    expect(all).toEqual(ALL)
  })

  it('answers 404 for an unknown project, and 401 (missing scope) for a project key', async () => {
    await expect(admin(t).organization.projects.rateLimits.listRateLimits('proj_missing')).rejects.toMatchObject({
      status: 404,
      error: { message: "No project found with id 'proj_missing'." },
    })
    const asProject = t.client(PROJECT_KEY, { adminAPIKey: PROJECT_KEY }).admin.organization.projects.rateLimits
    await expect(asProject.listRateLimits(projectId)).rejects.toMatchObject({ status: 401 })
  })
})

describe('POST /organization/projects/{project_id}/rate_limits/{rate_limit_id}', () => {
  it('changes only the fields given, and keeps them', async () => {
    const updated = await setLimits('test-scripted', { max_requests_per_1_day: 5000, max_images_per_1_minute: 7 })
    expect(updated).toEqual({
      object: 'project.rate_limit',
      id: 'rl-test-scripted',
      model: 'test-scripted',
      max_requests_per_1_minute: 1_000_000,
      max_tokens_per_1_minute: 1_000_000_000,
      max_images_per_1_minute: 7,
      max_requests_per_1_day: 5000,
    })
    const again = await setLimits('test-scripted', { max_requests_per_1_minute: 900 })
    expect(again).toMatchObject({ max_requests_per_1_minute: 900, max_requests_per_1_day: 5000, max_images_per_1_minute: 7 })
    const listed = await admin(t).organization.projects.rateLimits.listRateLimits(projectId)
    expect(listed.data.find((r) => r.model === 'test-scripted')).toEqual(again)
  })

  it('records the change in the audit log', async () => {
    const response = await t.fetch('http://plinth.test/v1/organization/audit_logs?event_types[]=rate_limit.updated', {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    })
    const { data } = await response.json()
    expect(data[0]).toMatchObject({
      type: 'rate_limit.updated',
      project: { id: projectId },
      'rate_limit.updated': { id: 'rl-test-scripted', changes_requested: { max_requests_per_1_minute: 900 } },
    })
    expect(data[1]['rate_limit.updated'].changes_requested).toEqual({ max_requests_per_1_day: 5000, max_images_per_1_minute: 7 })
  })

  it('refuses an unknown rate limit id, a limit below 1 and unknown fields', async () => {
    await expect(setLimits('no-such-model', { max_requests_per_1_minute: 5 })).rejects.toMatchObject({
      status: 404,
      error: { message: "No rate limit found with id 'rl-no-such-model'." },
    })
    await expect(setLimits('test-echo', { max_requests_per_1_minute: 0 })).rejects.toMatchObject({
      status: 400,
      error: { param: 'max_requests_per_1_minute', code: 'integer_below_min_value' },
    })
    await expect(setLimits('test-echo', { max_cats_per_1_minute: 5 })).rejects.toMatchObject({
      status: 400,
      error: { message: "Unknown parameter: 'max_cats_per_1_minute'." },
    })
  })
})

describe('enforcement', () => {
  it('a burst past the requests per minute gets 429s with OpenAI\u2019s message, retry-after and true headers', async () => {
    await setLimits('test-echo', { max_requests_per_1_minute: 3, max_tokens_per_1_minute: 100_000 })
    const responses: Response[] = []
    for (let i = 0; i < 5; i++) responses.push(await post('/chat/completions', chatBody('test-echo')))
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429])
    const ok = responses.slice(0, 3).map(limitHeaders)
    expect(ok.map((h) => h.limitRequests)).toEqual([3, 3, 3])
    expect(ok.map((h) => h.remainingRequests)).toEqual([2, 1, 0])
    // each request of a 3-per-minute limit takes 20 s to come back: full again 20, 40, 60 s on
    ok.forEach((h, i) => {
      expect(h.resetRequests).toBeGreaterThan(20_000 * (i + 1) - 1000)
      expect(h.resetRequests).toBeLessThanOrEqual(20_000 * (i + 1))
    })

    const refused = responses[3]
    const body = await refused.json()
    const match = /Please try again in (\S+)\. /.exec(body.error.message)!
    expect(body).toEqual({
      error: {
        message: `Rate limit reached for test-echo in organization ${orgId} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${match[1]}. ${RL_HELP}`,
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    })
    const wait = durationMs(match[1])
    expect(wait).toBeGreaterThan(19_000)
    expect(wait).toBeLessThanOrEqual(20_000)
    expect(refused.headers.get('retry-after')).toBe(String(Math.ceil(wait / 1000)))
    expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThanOrEqual(wait)
    expect(limitHeaders(refused)).toMatchObject({ limitRequests: 3, remainingRequests: 0 })
    expect(refused.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
  })

  it('the SDK sees a RateLimitError', async () => {
    await expect(
      t.client().chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' })
  })

  it('limits are per project: another project still has room', async () => {
    const other = await otherProjectClient(t)
    const { response } = await other.chat.completions
      .create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse()
    expect(limitHeaders(response)).toMatchObject({ limitRequests: 1_000_000, remainingRequests: 999_999 })
  })

  it('tokens per minute: the estimate is charged first and corrected to the true usage after', async () => {
    await setLimits('test-embed', { max_tokens_per_1_minute: 200 })
    const input = 'tokens '.repeat(40) // 280 characters: estimated at 70 tokens, fewer in truth
    const embed = () => post('/embeddings', JSON.stringify({ model: 'test-embed', input }))
    const first = await embed()
    expect(first.status).toBe(200)
    const used = (await first.json()).usage.prompt_tokens as number
    // the headers are computed before the request runs: the estimate is what they show
    expect(limitHeaders(first)).toMatchObject({ limitTokens: 200, remainingTokens: 200 - 70 })
    const second = await embed()
    // after the correction the first request weighs its true count
    expect(limitHeaders(second).remainingTokens).toBe(200 - used - 70)
    expect(limitHeaders(second).resetTokens).toBeGreaterThan(((used + 70) / 200) * 60_000 - 1000)

    const burst: Response[] = []
    for (let i = 0; i < 4; i++) burst.push(await embed())
    const refused = burst.find((r) => r.status === 429)!
    const body = await refused.json()
    expect(body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', param: null })
    expect(body.error.message).toMatch(
      new RegExp(
        `^Rate limit reached for test-embed in organization ${orgId} on tokens per min \\(TPM\\): Limit 200, Used (\\d+), Requested 70\\. Please try again in (\\d+(\\.\\d+)?m?s)\\. ${RL_HELP.replace(/\./g, '\\.')}$`,
      ),
    )
    const usedNow = Number(/Used (\d+)/.exec(body.error.message)![1])
    expect(usedNow + 70).toBeGreaterThan(200)
  })

  it('a request larger than the whole tokens-per-minute limit is told so, and not to retry', async () => {
    await setLimits('test-scripted', { max_tokens_per_1_minute: 500 })
    const response = await post('/chat/completions', chatBody('test-scripted', { max_tokens: 1000 }))
    expect(response.status).toBe(429)
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect((await response.json()).error).toEqual({
      message: `Request too large for test-scripted in organization ${orgId} on tokens per min (TPM): Limit 500, Requested 1003. The input or output tokens must be reduced in order to run successfully. ${RL_HELP}`,
      type: 'tokens',
      param: null,
      code: 'rate_limit_exceeded',
    })
  })

  it('requests per day apply once set', async () => {
    await setLimits('test-scripted', { max_requests_per_1_day: 2, max_tokens_per_1_minute: 1_000_000 })
    const statuses = []
    let last: Response | undefined
    for (let i = 0; i < 3; i++) {
      last = await post('/completions', JSON.stringify({ model: 'test-scripted', prompt: 'hello' }))
      statuses.push(last.status)
    }
    expect(statuses).toEqual([200, 200, 429])
    const message = (await last!.json()).error.message as string
    // two requests of a 2-per-day limit: the next one fits 12 hours after the first
    expect(message).toMatch(/ on requests per day \(RPD\): Limit 2, Used 2, Requested 1\. Please try again in (11h59m\d+(\.\d+)?s|12h0m0s)\. /)
  })

  it('streamed responses carry the headers too, in-process and when written straight to the socket (and plain ones over HTTP)', async () => {
    await setLimits('test-echo', { max_requests_per_1_minute: 10_000, max_tokens_per_1_minute: 1_000_000 })
    const streamed = await post('/chat/completions', chatBody('test-echo', { stream: true }))
    expect(streamed.status).toBe(200)
    expect(limitHeaders(streamed)).toMatchObject({ limitRequests: 10_000, limitTokens: 1_000_000 })
    await streamed.text()

    const server: http.Server = await new Promise((resolve) => {
      // overrideGlobalObjects: false keeps the global Response, which later in-process requests use
      const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0, overrideGlobalObjects: false }, () => resolve(s as http.Server))
    })
    try {
      const { port } = server.address() as { port: number }
      const bodies = [chatBody('test-echo', { stream: true }), JSON.stringify({ model: 'test-echo', prompt: 'x', stream: true }), chatBody('test-echo')]
      for (const body of bodies) {
        const path = body.includes('prompt') ? '/v1/completions' : '/v1/chat/completions'
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
          body,
        })
        expect(response.status).toBe(200)
        if (body.includes('stream')) expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
        const h = limitHeaders(response)
        expect(h.limitRequests).toBe(10_000)
        expect(h.remainingRequests).toBeLessThan(10_000)
        expect(h.limitTokens).toBe(1_000_000)
        // a few tokens of a million a minute come back within a millisecond: 0s or 1ms
        expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(0s|\d+ms)$/)
        expect(h.remainingTokens).toBeLessThan(1_000_000)
        await response.text()
      }
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('a request that fails before it runs gives its tokens back', async () => {
    await setLimits('test-echo', { max_tokens_per_1_minute: 1000 })
    // tool_choice without tools: refused after the limits charged 800 estimated tokens
    const bad = await post('/chat/completions', chatBody('test-echo', { max_tokens: 800, tool_choice: 'none' }))
    expect(bad.status).toBe(400)
    const next = await post('/chat/completions', chatBody('test-echo', { max_tokens: 800 }))
    expect(next.status).toBe(200)
  })

  it('unknown models are not limited (they fail with model_not_found) and carry no headers', async () => {
    const response = await post('/chat/completions', chatBody('no-such-model'))
    expect(response.status).toBe(404)
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull()
  })

  it('non-inference responses carry no rate limit headers', async () => {
    const response = await t.fetch('http://plinth.test/v1/models', { headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull()
  })
})

describeRedis('two nodes on one Redis', () => {
  let a: TestApp
  let b: { ctx: AppContext; client(key?: string): OpenAI }
  let serverB: http.Server | undefined

  beforeAll(async () => {
    const rateLimits = { redisUrl: redisTestUrl(), redisPrefix: redisPrefix('rate-limits'), projectCacheMs: 0 }
    a = await createTestApp({ rateLimits })
    // node B: its own context and limiter (its own Redis connection), on node A's database. The
    // database handle is shared: two SQLite connections in one process would block each other's
    // event loop; node A closes it.
    const storage = a.ctx.storage
    const ctx = await createContext(
      parseConfig({
        dataDir: a.ctx.config.dataDir,
        bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
        testModels: { enabled: true, scriptFile: SCRIPT_FILE },
        rateLimits,
      }),
      { storage: { db: storage.db, dialect: storage.dialect, changes: storage.changes, transaction: (fn) => storage.transaction(fn), runBatch: (queries) => storage.runBatch(queries), close: async () => {} } },
    )
    // served as node A is: over HTTP, through the production listener
    serverB = http.createServer(createListener(ctx, createApp(ctx)))
    await new Promise<void>((resolve) => serverB!.listen(0, '127.0.0.1', resolve))
    const urlB = `http://127.0.0.1:${(serverB.address() as { port: number }).port}`
    const fetchB = validatingFetch(fetch)
    b = {
      ctx,
      client: (key = PROJECT_KEY) => new OpenAI({ apiKey: key, baseURL: `${urlB}/v1`, fetch: fetchB, maxRetries: 0 }),
    }
  })
  afterAll(async () => {
    serverB?.closeAllConnections()
    serverB?.close()
    await b?.ctx.close()
    await a?.close()
  })

  it('share one limit: a burst spread over both nodes gets the limit through, once', async () => {
    const project = a.ctx.bootstrap.created!.project.id
    await admin(a).organization.projects.rateLimits.updateRateLimit('rl-test-echo', {
      project_id: project,
      max_requests_per_1_minute: 6,
    })
    const ask = (node: { client(key?: string): OpenAI }) =>
      node
        .client()
        .chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => 200,
          (error) => (error as { status: number }).status,
        )
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(i % 2 ? a : b)))
    expect(statuses.filter((s) => s === 200)).toHaveLength(6)
    expect(statuses.filter((s) => s === 429)).toHaveLength(6)
  })

  it('both nodes report the shared remaining count', async () => {
    const project = a.ctx.bootstrap.created!.project.id
    await admin(a).organization.projects.rateLimits.updateRateLimit('rl-test-scripted', {
      project_id: project,
      max_requests_per_1_minute: 50,
    })
    const remaining = []
    for (const node of [a, b, a, b]) {
      const { response } = await node
        .client()
        .completions.create({ model: 'test-scripted', prompt: 'hello' })
        .withResponse()
      remaining.push(Number(response.headers.get('x-ratelimit-remaining-requests')))
    }
    expect(remaining).toEqual([49, 48, 47, 46])
  })
})
