// npm run bench:admin: what usage accounting and rate limits cost (issue 5).
//   1. the rate limiter per request: LimitsService.reserve + settle (headers included), in process
//      and on Redis (BENCH_REDIS_URL or TEST_REDIS_URL; skipped without either)
//   2. usage queries over USAGE_RECORDS (default 1,000,000) generated usage records spread over a
//      year, on SQLite, through the HTTP API in process (validation and JSON included)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import type { ConfigInput } from '../src/config/schema.js'
import { createContext, type AppContext } from '../src/context.js'
import { rollupsOf } from '../src/domain/usage/rollup.js'
import { setLogLevel } from '../src/logger.js'
import type { Principal } from '../src/principal.js'
import { newId } from '../src/storage/ids.js'
import { InProcessLimiter } from '../src/storage/limits/in-process.js'
import { createRepos } from '../src/storage/repositories/index.js'
import type { UsageRecordInsert } from '../src/storage/repositories/usage.js'

const ADMIN_KEY = 'sk-admin-bench-00000000000000000000000'
const PROJECT_KEY = 'sk-proj-bench-000000000000000000000000'
const RECORDS = Number(process.env.USAGE_RECORDS ?? 1_000_000)
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL
const DAY = 86_400

setLogLevel('warn')
const lines: string[] = []
const out = (line = '') => {
  lines.push(line)
  console.error(line)
}

async function context(extra: Partial<ConfigInput> = {}): Promise<{ ctx: AppContext; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-admin-'))
  const config = parseConfig({ dataDir: dir, bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY }, log: { level: 'warn' }, ...extra })
  return { ctx: await createContext(config), dir }
}

async function close({ ctx, dir }: { ctx: AppContext; dir: string }) {
  await ctx.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

/** µs per call of fn, run `n` times after a warm-up. */
async function perCall(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(5000, n / 10); i++) await fn(i)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn(i)
  return ((performance.now() - t0) * 1000) / n
}

/** µs per call with `concurrency` calls in flight (a server under load). */
async function perCallConcurrent(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++)
    }),
  )
  return ((performance.now() - t0) * 1000) / n
}

async function limiterBench() {
  out('### Rate limiter, per request')
  out()
  out('| limiter | what | µs / request |')
  out('|---|---|---:|')
  const raw = new InProcessLimiter()
  const counters = (i: number) => [
    { key: `{proj_${i % 8}:m}:rpm`, limit: 1e9, windowMs: 60_000, cost: 1 },
    { key: `{proj_${i % 8}:m}:tpm`, limit: 1e12, windowMs: 60_000, cost: 50 },
  ]
  out(`| in-process | GCRA alone (acquireNow, 2 counters) | ${(await perCall(1_000_000, (i) => raw.acquireNow(counters(i)))).toFixed(2)} |`)

  const local = await context({ rateLimits: { defaults: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } } })
  const principal: Principal = await local.ctx.services.keys.authenticate(PROJECT_KEY)
  const limits = local.ctx.services.limits
  const reserve = async () => (await limits.reserve(principal, 'test-echo', { tokens: 50 })).settle(40)
  out(`| in-process | reserve + headers + settle (what a request pays) | ${(await perCall(300_000, reserve)).toFixed(2)} |`)
  await close(local)

  if (!REDIS_URL) {
    out('| Redis | (skipped: set BENCH_REDIS_URL or TEST_REDIS_URL) | |')
    return
  }
  const shared = await context({
    rateLimits: { redisUrl: REDIS_URL, redisPrefix: `plinth-bench:${process.pid}:`, defaults: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } },
  })
  const p2 = await shared.ctx.services.keys.authenticate(PROJECT_KEY)
  const redisReserve = async () => (await shared.ctx.services.limits.reserve(p2, 'test-echo', { tokens: 50 })).settle(40)
  out(`| Redis (local) | reserve + settle, one at a time (a round trip each) | ${(await perCall(20_000, redisReserve)).toFixed(1)} |`)
  out(`| Redis (local) | reserve + settle, 64 in flight (amortized) | ${(await perCallConcurrent(50_000, 64, redisReserve)).toFixed(1)} |`)
  await close(shared)
}

/** Deterministic pseudo-random numbers, so every run generates the same records. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'test-echo', 'llama-3.1-8b', 'qwen2.5-7b']

async function usageBench() {
  const env = await context({
    pricing: { models: Object.fromEntries(MODELS.map((m, i) => [m, { input: 0.15 * (i + 1), output: 0.6 * (i + 1), cachedInput: 0.075 }])) },
  })
  const { ctx } = env
  const app = createApp(ctx)
  const end = 1_767_225_600 // 2026-01-01T00:00:00Z
  const start = end - 365 * DAY
  const projects = Array.from({ length: 5 }, (_, i) => `proj_bench${i}`)
  const keys = Array.from({ length: 20 }, (_, i) => `key_bench${String(i).padStart(2, '0')}`)
  const random = mulberry32(42)

  // the records in time order, in flushes of 10,000: the path UsageRecorder.flush takes
  const t0 = performance.now()
  const BATCH = 10_000
  for (let done = 0; done < RECORDS; done += BATCH) {
    const rows: UsageRecordInsert[] = []
    for (let i = done; i < Math.min(RECORDS, done + BATCH); i++) {
      const key = Math.floor(random() * keys.length)
      const embeddings = random() < 0.2
      rows.push({
        id: newId('usage_'),
        org_id: ctx.organization.id,
        project_id: projects[key % projects.length],
        api_key_id: keys[key],
        operation: embeddings ? 'embeddings' : 'completions',
        model: embeddings ? 'text-embedding-3-small' : MODELS[Math.floor(random() * MODELS.length)],
        input_tokens: Math.floor(random() * 2000),
        output_tokens: embeddings ? 0 : Math.floor(random() * 500),
        cached_tokens: Math.floor(random() * 100),
        requests: 1,
        batch: random() < 0.1 ? 1 : 0,
        created_at: start + Math.floor(((i + random()) / RECORDS) * 365 * DAY),
      })
    }
    // as UsageRecorder writes them: the records and their rollups in one transaction
    const repos = createRepos(ctx.storage.db)
    await ctx.storage.runBatch([...repos.usage.insertQueries(rows), ...repos.usageRollups.addQueries(rollupsOf(rows))])
  }
  const generated = (performance.now() - t0) / 1000
  const counts = await ctx.storage.db
    .selectFrom('usage_rollups')
    .select(['bucket_width', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('bucket_width')
    .execute()
  const rollupRows = Object.fromEntries(counts.map((c) => [c.bucket_width, c.n]))

  const get = async (query: string) => {
    const response = await app.request(`/v1/organization/${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    if (response.status !== 200) throw new Error(`${query}: ${response.status} ${await response.text()}`)
    return (await response.json()) as { data: unknown[]; next_page: string | null }
  }
  /** ms for one query, the median of `runs`. */
  const timed = async (query: string, runs = 7) => {
    const times: number[] = []
    for (let i = 0; i < runs; i++) {
      const t = performance.now()
      await get(query)
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    return times[Math.floor(runs / 2)]
  }
  /** ms to walk every page of a query over the whole year. */
  const walk = async (query: string) => {
    const t = performance.now()
    let pages = 0
    let page: string | null = null
    do {
      const body = await get(`${query}${page ? `&page=${page}` : ''}`)
      pages++
      page = body.next_page
    } while (page)
    return { ms: performance.now() - t, pages }
  }

  out()
  out(`### Usage queries over ${RECORDS.toLocaleString('en-US')} usage records (SQLite)`)
  out()
  out(
    `Records spread evenly over a year (5 projects, 20 keys, 7 models, 20% embeddings, 10% batch), written the way UsageRecorder.flush writes them, in flushes of ${BATCH.toLocaleString('en-US')}: ${generated.toFixed(1)} s (${Math.round(RECORDS / generated).toLocaleString('en-US')} records/s with their rollups). Rollup rows: 1m ${rollupRows['1m']?.toLocaleString('en-US')}, 1h ${rollupRows['1h']?.toLocaleString('en-US')}, 1d ${rollupRows['1d']?.toLocaleString('en-US')}. Times are through the HTTP API in process (validation and JSON included), median of 7.`,
  )
  out()
  out('| query | ms |')
  out('|---|---:|')
  const year = `start_time=${start}&end_time=${end}`
  const rows: [string, string][] = [
    ['completions, 31 daily buckets (the largest 1d page)', `usage/completions?${year}&limit=31`],
    ['completions, 31 daily buckets, group_by model, project_id, api_key_id, batch', `usage/completions?${year}&limit=31&group_by[]=model&group_by[]=project_id&group_by[]=api_key_id&group_by[]=batch`],
    ['completions, 31 daily buckets, filtered by 2 projects and 2 models', `usage/completions?${year}&limit=31&project_ids[]=proj_bench1&project_ids[]=proj_bench3&models[]=gpt-4o&models[]=o3-mini`],
    ['completions, 168 hourly buckets (a week), group_by model', `usage/completions?start_time=${end - 7 * DAY}&end_time=${end}&bucket_width=1h&limit=168&group_by[]=model`],
    ['completions, 1440 minute buckets (a day), group_by model', `usage/completions?start_time=${end - DAY}&end_time=${end}&bucket_width=1m&limit=1440&group_by[]=model`],
    ['embeddings, 31 daily buckets, group_by user_id', `usage/embeddings?${year}&limit=31&group_by[]=user_id`],
    ['costs, 180 daily buckets, group_by line_item, project_id', `costs?${year}&limit=180&group_by[]=line_item&group_by[]=project_id`],
  ]
  for (const [label, query] of rows) out(`| ${label} | ${(await timed(query)).toFixed(1)} |`)
  const daily = await walk(`usage/completions?${year}&limit=31&group_by[]=model`)
  out(`| the whole year, daily, group_by model: all ${daily.pages} pages | ${daily.ms.toFixed(1)} |`)
  const costs = await walk(`costs?${year}&limit=180&group_by[]=line_item`)
  out(`| the whole year of costs by line item: all ${costs.pages} pages | ${costs.ms.toFixed(1)} |`)

  // what the rollups save: the same daily totals for 31 days straight from the records
  const t1 = performance.now()
  await ctx.storage.db
    .selectFrom('usage_records')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('input_tokens').as('input')])
    .where('operation', '=', 'completions')
    .where('created_at', '>=', start)
    .where('created_at', '<', start + 31 * DAY)
    .groupBy((eb) => eb.parens(eb('created_at', '/', DAY)))
    .execute()
  out(`| for comparison: 31 daily totals straight from usage_records (no rollups) | ${(performance.now() - t1).toFixed(1)} |`)
  const t2 = performance.now()
  await ctx.storage.db
    .selectFrom('usage_records')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('input_tokens').as('input')])
    .where('operation', '=', 'completions')
    .groupBy((eb) => eb.parens(eb('created_at', '/', DAY)))
    .execute()
  out(`| for comparison: a year of daily totals straight from usage_records | ${(performance.now() - t2).toFixed(1)} |`)
  await close(env)
}

async function main() {
  out(`Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`)
  out()
  await limiterBench()
  await usageBench()
  console.log(lines.join('\n'))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
