import fs from 'node:fs'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { Agent, fetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usageTotals } from '../helpers/crash-db.js'
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js'
import { startFakeFineTuningUpstream } from '../helpers/fake-fine-tuning-upstream.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { describeRedis, redisPrefix, redisTestUrl } from '../helpers/redis.js'
import { poll, serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// `plinth serve --workers 2` as real processes: one port, two workers, the primary's counters.

const KEY = 'sk-proj-workers-0000000000000000000000000'
const ADMIN = 'sk-admin-workers-000000000000000000000000'
const servers = serverProcesses(KEY)
let upstream: FakeUpstream
let hanging: FakeUpstream
let tuner: Awaited<ReturnType<typeof startFakeFineTuningUpstream>>

beforeAll(async () => {
  upstream = await startFakeUpstream({ record: false })
  hanging = await startFakeUpstream({ behavior: { hang: 'headers' } })
  tuner = await startFakeFineTuningUpstream()
})
afterAll(async () => {
  servers.cleanup()
  await upstream?.close()
  await hanging?.close()
  await tuner?.close()
})

function startCluster(rateLimits: Record<string, unknown> = {}) {
  const dir = servers.dataDir('plinth-workers-')
  const configFile = path.join(dir, 'config.json')
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      server: { workers: 2 },
      // a minute: a worker that was not told of a change would serve its cache for the whole test
      changes: { maxStaleMs: 60_000 },
      rateLimits: { ...rateLimits, models: { 'test-echo': { requestsPerMinute: 10 } } },
      upstreams: [
        { id: 'fake', baseURL: upstream.baseURL },
        { id: 'hang', baseURL: hanging.baseURL },
        { id: 'tuner', baseURL: tuner.baseURL, fineTuning: true, fineTuningPollMs: 20 },
      ],
      models: [
        { id: 'counted', provider: 'openai-compatible', upstream: 'fake' },
        { id: 'stuck', provider: 'openai-compatible', upstream: 'hang' },
        { id: 'remote-mini', provider: 'openai-compatible', upstream: 'tuner', upstreamModel: 'gpt-4o-mini-2024-07-18' },
      ],
    }),
  )
  return servers.start(path.join(dir, 'data'), { PLINTH_CONFIG: configFile, PLINTH_BOOTSTRAP_ADMIN_KEY: ADMIN })
}

function chat(server: ServerProcess, model: string, init: { signal?: AbortSignal; dispatcher?: Agent } = {}) {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    ...init,
  })
}

/** The JSON log lines the processes printed (the primary's and the workers', in one stream). */
function logLines(server: ServerProcess): Record<string, any>[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
}

/** The pids of the workers in slot `index`, in the order they were started. */
function workerPids(server: ServerProcess, index: number): number[] {
  return logLines(server)
    .filter((l) => l.log === 'boot' && l.worker === index && l.workerPid !== undefined && /started/.test(l.msg))
    .map((l) => l.workerPid)
}

type Answer = { status: number; body: any; headers: Headers }

/**
 * Sends `request` on a fresh connection each time (the primary hands connections to the workers
 * in turn) until each of the two workers answered `each` times: the answers by worker pid, told
 * apart by the request id the access log line of each carries.
 */
async function fromBothWorkers(server: ServerProcess, path: string, key: string, each = 2): Promise<Map<number, Answer[]>> {
  const byPid = new Map<number, Answer[]>()
  const done = () => byPid.size === 2 && [...byPid.values()].every((a) => a.length >= each)
  for (let i = 0; i < 8 * each && !done(); i++) {
    const agent = new Agent()
    let answer: Answer
    try {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent })
      answer = { status: response.status, body: await response.json(), headers: response.headers as unknown as Headers }
    } finally {
      await agent.close()
    }
    const id = answer.headers.get('x-request-id')
    // the worker writes its access line at the end of the turn
    const line = await poll(async () => logLines(server).find((l) => l.log === 'access' && l.request_id === id), (l) => l !== undefined, `the access line of ${id}`, 5000)
    byPid.set(line!.pid, [...(byPid.get(line!.pid) ?? []), answer])
  }
  expect(done()).toBe(true)
  return byPid
}

/** A new project key through the API (a service account's), with each worker holding it cached. */
async function cachedOnBothWorkers(server: ServerProcess, admin: OpenAI, projectId: string, name: string) {
  const account = await admin.admin.organization.projects.serviceAccounts.create(projectId, { name })
  const secret = account.api_key!.value
  for (const answers of (await fromBothWorkers(server, '/v1/models', secret)).values()) expect(answers.map((a) => a.status)).toEqual([200, 200])
  return { secret, accountId: account.id }
}

/** Deletes the key's service account through one worker; the ms until both refused the key, from its answer. */
async function revokedOnBothWorkers(server: ServerProcess, admin: OpenAI, projectId: string, key: { secret: string; accountId: string }) {
  await admin.admin.organization.projects.serviceAccounts.delete(key.accountId, { project_id: projectId })
  const t0 = performance.now()
  const byPid = await fromBothWorkers(server, '/v1/models', key.secret, 3)
  // every request after the answer is refused, on either worker: none waited for a cache to age
  for (const answers of byPid.values()) {
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401])
    expect(answers[0].body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' })
  }
  return performance.now() - t0
}

function adminOf(server: ServerProcess) {
  return new OpenAI({ apiKey: ADMIN, adminAPIKey: ADMIN, baseURL: `${server.url}/v1`, maxRetries: 0 })
}

/** 30 requests at once to a model limited to 10 a minute: exactly 10 pass, whichever worker. */
async function exactLimit(server: ServerProcess) {
  const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await chat(server, 'test-echo')).status))
  expect(statuses.filter((s) => s === 200)).toHaveLength(10)
  expect(statuses.filter((s) => s === 429)).toHaveLength(20)
  // both workers answered some of them: the limit held across processes, not inside one. Under
  // load the primary may hand the whole burst to one worker; more requests then reach the other,
  // which must refuse them too, since the count it shares is already spent
  const pids = () => new Set(logLines(server).filter((l) => l.log === 'access' && l.path === '/v1/chat/completions').map((l) => l.pid))
  for (let extra = 0; extra < 20 && pids().size < 2; extra++) {
    // a connection of its own: a reused one stays with its worker
    const agent = new Agent()
    expect((await chat(server, 'test-echo', { dispatcher: agent })).status).toBe(429)
    await agent.close()
    await new Promise((r) => setTimeout(r, 50))
  }
  expect(pids().size).toBe(2)
}

describe('plinth serve --workers 2 (SQLite, no Redis: the primary holds the counters)', () => {
  let server: ServerProcess
  const started = Math.floor(Date.now() / 1000) - 60

  beforeAll(async () => {
    server = await startCluster()
  }, 120_000)

  it('runs two workers on one port and prints the first start once', () => {
    expect(workerPids(server, 1)).toHaveLength(1)
    expect(workerPids(server, 2)).toHaveLength(1)
    // one bootstrap, in the primary: the admin key line of the banner is there exactly once
    expect(server.output().match(/admin key \(for \/v1\/organization\)/g)).toHaveLength(1)
    expect(server.output().match(/Plinth ready on/g)).toHaveLength(1)
  })

  it('keeps a rate limit exact across the workers', async () => {
    await exactLimit(server)
  }, 30_000)

  it('counts usage once: the usage API reports the requests that were answered', async () => {
    let answered = 10 // the test-echo requests the limit let through
    for (let round = 0; round < 4; round++) {
      const statuses = await Promise.all(Array.from({ length: 10 }, async () => (await chat(server, 'counted')).status))
      answered += statuses.filter((s) => s === 200).length
    }
    expect(answered).toBe(50)
    // a worker writes its rows in the turn after it answers: wait for the last ones
    await poll(() => usageTotals(server.url, ADMIN, started, false), (t) => t.requests >= answered, 'the usage rows', 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect((await usageTotals(server.url, ADMIN, started, false)).requests).toBe(answered)
  }, 30_000)

  it('runs one job runner: batches created on either worker complete, each line exactly once', async () => {
    const lines = 12
    const input = Array.from({ length: lines }, (_, i) =>
      JSON.stringify({ custom_id: `line-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'counted', messages: [{ role: 'user', content: `line ${i}` }] } }),
    ).join('\n')
    // several batches over separate connections: the primary hands them to both workers, and the
    // one without the runner relays its wake-up to the one with it
    const batches = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const file = await server.client.files.create({ file: await toFile(Buffer.from(input), 'in.jsonl'), purpose: 'batch' })
        return server.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      }),
    )
    for (const batch of batches) {
      const done = await poll(() => server.client.batches.retrieve(batch.id), (b) => ['completed', 'failed', 'expired', 'cancelled'].includes(b.status), 'the batch', 30_000)
      expect(done.status).toBe('completed')
      expect(done.request_counts).toEqual({ total: lines, completed: lines, failed: 0 })
      const output = (await (await server.client.files.content(done.output_file_id!)).text()).trim().split('\n')
      expect(output.map((l) => JSON.parse(l).custom_id).sort()).toEqual(Array.from({ length: lines }, (_, i) => `line-${i}`).sort())
    }
    const logs = logLines(server)
    // the leader and the runner live in worker 1 only
    const leaders = logs.filter((l) => l.msg === 'this node leads the singleton sweeps')
    expect(leaders).toHaveLength(1)
    expect(leaders[0].pid).toBe(workerPids(server, 1)[0])
  }, 90_000)

  it('answers a scrape on either worker with every worker\'s metrics: counts exact, lag per worker', async () => {
    // each on its own connection: the primary hands connections to the workers in turn
    const once = async (path: string, key: string) => {
      const agent = new Agent()
      try {
        const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent })
        expect(response.status).toBe(200)
        return await response.text()
      } finally {
        await agent.close()
      }
    }
    const requests = 23
    for (let i = 0; i < requests; i++) await once('/v1/models', KEY)
    const scrapes = []
    for (let i = 0; i < 4; i++) scrapes.push(parsePrometheus(await once('/metrics', ADMIN)))
    for (const scrape of scrapes) {
      expect(sampleValue(scrape, 'plinth_http_requests_total', { route: '/v1/models', status: '200' })).toBe(requests)
      expect(sampleValue(scrape, 'plinth_http_request_duration_seconds_count', { route: '/v1/models' })).toBe(requests)
      expect(sampleValue(scrape, 'plinth_cluster_workers', { state: 'answered' })).toBe(2)
      expect(sampleValue(scrape, 'plinth_cluster_workers', { state: 'missing' })).toBe(0)
      // a gauge of the process is each worker's own series
      const lag = scrape.samples.filter((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')
      expect(lag.map((s) => s.labels.worker).sort()).toEqual(['1', '2'])
      // a gauge read from the database is one series, not one a worker
      expect(scrape.samples.filter((s) => s.name === 'plinth_sqlite_file_bytes' && s.labels.worker !== undefined)).toEqual([])
      expect(scrape.samples.some((s) => s.name === 'plinth_sqlite_file_bytes')).toBe(true)
    }
    // both workers served the requests, and both answered scrapes
    const logs = logLines(server).filter((l) => l.log === 'access')
    expect(new Set(logs.filter((l) => l.path === '/v1/models').map((l) => l.pid)).size).toBe(2)
    expect(new Set(logs.filter((l) => l.path === '/metrics').map((l) => l.pid)).size).toBe(2)
  }, 30_000)

  it('a key revoked through one worker is refused by both at once (the primary relays the change feed)', async () => {
    const admin = adminOf(server)
    const projectId = (await admin.admin.organization.projects.list()).data[0].id
    const key = await cachedOnBothWorkers(server, admin, projectId, 'relay-bot')
    const ms = await revokedOnBothWorkers(server, admin, projectId, key)
    console.info(`key revoked through one worker: every request after the answer refused by both workers (6 in ${ms.toFixed(0)} ms)`)
  }, 30_000)

  it("a project's rate limit changed through one worker applies on both at once", async () => {
    const admin = adminOf(server)
    const projectId = (await admin.admin.organization.projects.list()).data[0].id
    // each worker has the project's limits cached
    const limitOf = async () => [...(await fromBothWorkers(server, '/v1/models', KEY, 1)).values()].map(([a]) => a.headers.get('x-ratelimit-limit-requests'))
    const before = await limitOf()
    expect(new Set(before).size).toBe(1)
    expect(before[0]).not.toBe('123')
    await admin.admin.organization.projects.rateLimits.updateRateLimit('rl-counted', { project_id: projectId, max_requests_per_1_minute: 123 })
    const counted = new Map<number, string | null>()
    for (let i = 0; i < 8 && counted.size < 2; i++) {
      const agent = new Agent()
      try {
        const response = await chat(server, 'counted', { dispatcher: agent })
        const id = response.headers.get('x-request-id')
        await response.text()
        const line = await poll(async () => logLines(server).find((l) => l.log === 'access' && l.request_id === id), (l) => l !== undefined, 'the access line', 5000)
        counted.set(line!.pid, response.headers.get('x-ratelimit-limit-requests'))
      } finally {
        await agent.close()
      }
    }
    expect([...counted.values()]).toEqual(['123', '123'])
  }, 30_000)

  it('a model fine-tuned by the jobs worker is served by the other worker without a restart, and its deletion too', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }] })).join('\n')
    const file = await server.client.files.create({ file: await toFile(Buffer.from(lines), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await server.client.fineTuning.jobs.create({ model: 'remote-mini', training_file: file.id, suffix: 'relay' })
    for (const status of ['queued', 'running', 'succeeded']) {
      await poll(async () => tuner.jobs.size, (n) => n === 1, 'the upstream job', 10_000)
      tuner.advance()
      await poll(() => server.client.fineTuning.jobs.retrieve(job.id), (j) => j.status === status, `the job ${status}`, 10_000)
    }
    const t0 = performance.now()
    const model = (await server.client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!
    const listed = async () => [...(await fromBothWorkers(server, '/v1/models', KEY, 1)).values()].map(([a]) => a.body.data.some((m: { id: string }) => m.id === model))
    // the job's success is committed before it is announced: a read may come between the two
    await poll(listed, (both) => both.every(Boolean), 'the model served on both workers', 2000)
    console.info(`fine-tuned model served by both workers ${(performance.now() - t0).toFixed(1)} ms after the job read succeeded`)

    await server.client.models.delete(model)
    expect(await listed()).toEqual([false, false])
  }, 60_000)

  it('restarts a worker killed with SIGKILL; its requests in flight fail with a reset, the server keeps answering', async () => {
    const [victim] = workerPids(server, 2)
    // four requests held by an upstream that never answers, each on a connection of its own, opened
    // one after another: the primary hands new connections to the workers in turn
    const controller = new AbortController()
    const held: Promise<string>[] = []
    for (let i = 0; i < 4; i++) {
      held.push(
        fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'stuck', messages: [{ role: 'user', content: 'hi' }] }),
          signal: controller.signal,
          dispatcher: new Agent(),
        }).then(
          (r) => `status ${r.status}`,
          (e: Error) => (controller.signal.aborted ? 'aborted' : `reset: ${(e.cause as Error)?.message ?? e.message}`),
        ),
      )
      await poll(async () => hanging.requests.length, (n) => n > i, 'the held request to reach the upstream', 10_000)
    }
    process.kill(victim, 'SIGKILL')
    const states = () => Promise.all(held.map((p) => Promise.race([p, new Promise<string>((r) => setTimeout(() => r('pending'), 20))])))
    // the killed worker's requests fail at once with a connection error, not a hang or a 5xx
    await poll(states, (s) => s.some((x) => x.startsWith('reset')), "the killed worker's requests to fail", 10_000)
    await new Promise((r) => setTimeout(r, 300))
    const settled = await states()
    expect(settled.filter((s) => s.startsWith('reset'))).toHaveLength(2)
    // the survivor's two are still waiting for the upstream
    expect(settled.filter((s) => s === 'pending')).toHaveLength(2)
    controller.abort()
    await Promise.all(held)
    // the survivor answers every request while worker 2 restarts
    for (let i = 0; i < 10; i++) expect((await chat(server, 'counted')).status).toBe(200)
    const replaced = await poll(
      async () => logLines(server).filter((l) => l.msg === 'worker 2 ready'),
      (lines) => lines.length === 2,
      'the replacement worker to be ready',
      60_000,
    )
    const [, replacement] = workerPids(server, 2)
    expect(replacement).not.toBe(victim)
    expect(replaced[1].pid).toBe(replacement)
    expect(logLines(server).some((l) => l.level === 50 && l.workerPid === victim && l.signal === 'SIGKILL')).toBe(true)
    // and the replacement takes connections again
    await poll(
      async () => {
        // new connections (the primary hands out connections, not requests, in turn)
        await Promise.all(Array.from({ length: 4 }, () => chat(server, 'counted', { dispatcher: new Agent() })))
        return logLines(server).some((l) => l.log === 'access' && l.pid === replacement)
      },
      (served) => served,
      'the replacement to serve',
      10_000,
    )
  }, 120_000)

  it('a restarted worker hears the changes made through the other one', async () => {
    const admin = adminOf(server)
    const projectId = (await admin.admin.organization.projects.list()).data[0].id
    const key = await cachedOnBothWorkers(server, admin, projectId, 'relay-bot-2')
    const ms = await revokedOnBothWorkers(server, admin, projectId, key)
    console.info(`key revoked after a worker's restart: every request after the answer refused by both workers (6 in ${ms.toFixed(0)} ms)`)
  }, 30_000)

  it('drains every worker and exits on SIGTERM to the primary', async () => {
    const pids = [...workerPids(server, 1), ...workerPids(server, 2)]
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    for (const pid of pids) expect(alive(pid)).toBe(false)
  }, 60_000)
})

describeRedis('plinth serve --workers 2 with Redis', () => {
  it('keeps a rate limit exact across the workers through Redis', async () => {
    const server = await startCluster({ redisUrl: redisTestUrl(), redisPrefix: redisPrefix('workers') })
    try {
      expect(server.output()).not.toMatch(/cannot reach Redis/)
      await exactLimit(server)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  }, 120_000)
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
