import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { Agent, fetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usageTotals } from '../helpers/crash-db.js'
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { describeRedis, redisPrefix, redisTestUrl } from '../helpers/redis.js'
import { poll, serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// `plinth serve --workers 2` as real processes: one port, two workers, the primary's counters.

const KEY = 'sk-proj-workers-0000000000000000000000000'
const ADMIN = 'sk-admin-workers-000000000000000000000000'
const servers = serverProcesses(KEY)
let upstream: FakeUpstream
let hanging: FakeUpstream

beforeAll(async () => {
  upstream = await startFakeUpstream({ record: false })
  hanging = await startFakeUpstream({ behavior: { hang: 'headers' } })
})
afterAll(async () => {
  servers.cleanup()
  await upstream?.close()
  await hanging?.close()
})

function startCluster(rateLimits: Record<string, unknown> = {}) {
  const dir = servers.dataDir('plinth-workers-')
  const configFile = path.join(dir, 'config.json')
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      server: { workers: 2 },
      rateLimits: { ...rateLimits, models: { 'test-echo': { requestsPerMinute: 10 } } },
      upstreams: [
        { id: 'fake', baseURL: upstream.baseURL },
        { id: 'hang', baseURL: hanging.baseURL },
      ],
      models: [
        { id: 'counted', provider: 'openai-compatible', upstream: 'fake' },
        { id: 'stuck', provider: 'openai-compatible', upstream: 'hang' },
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

/** 30 requests at once to a model limited to 10 a minute: exactly 10 pass, whichever worker. */
async function exactLimit(server: ServerProcess) {
  const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await chat(server, 'test-echo')).status))
  expect(statuses.filter((s) => s === 200)).toHaveLength(10)
  expect(statuses.filter((s) => s === 429)).toHaveLength(20)
  // both workers answered some of them: the limit held across processes, not inside one
  const pids = new Set(logLines(server).filter((l) => l.log === 'access' && l.path === '/v1/chat/completions').map((l) => l.pid))
  expect(pids.size).toBe(2)
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
