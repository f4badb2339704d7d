// npm run bench:budget: what issue 2's throughput target leaves for Plinth's own work, against
// what that work costs at the least.
//
// The gateway benchmark is CPU-bound: on this 2-core machine the load generator, the upstream and
// the proxy under test share the cores. Plinth does everything the baseline proxy does (HTTP in,
// JSON parse, the upstream request, the answer out), so its CPU per request is at least the
// baseline's B plus its own steps. Throughput at 0.8x the baseline needs CPU per request at most
// B / 0.8: the steps must fit in 0.25 B. Part 1 measures B and Plinth's own, and how busy the machine is
// at the baseline's rate (a Plinth spread over more threads could only use what is idle). Part 2
// times each step the issue requires on its own, through Plinth's own code, warm and in a tight
// loop: the cheapest each can be, before any glue between them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { parseConfig } from '../src/config/load.js'
import { createContext } from '../src/context.js'
import { headerPolicy, newRequestId } from '../src/http/response-headers.js'
import type { ProjectPrincipal } from '../src/principal.js'
import { ChatCompletionCreateParams } from '../src/schemas/chat.js'
import { validate } from '../src/schemas/validation.js'
import { BENCH_KEY as KEY, startGateway, stopAll, type Server } from './gateway-setup.js'
import { cpuMicros as cpuOf } from './proc.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const body = {
  model: 'bench-model',
  messages: [
    { role: 'system', content: 'You are a benchmark.' },
    { role: 'user', content: 'Say hello from the benchmark upstream, a fixed answer of some length.' },
  ],
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

type Load = { perRequest: number; others: number; coresBusy: number; rps: number }

/** One round of concurrency 50 on a proxy: its CPU per request, the others', the cores in use. */
async function round(proxy: Server, upstreamPid: number): Promise<Load> {
  const before = { proxy: cpuOf(proxy.pid), upstream: cpuOf(upstreamPid), self: cpuOf('self') }
  const started = performance.now()
  const result = await autocannon({
    url: `http://127.0.0.1:${proxy.port}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
    connections: 50,
    duration: SECONDS,
  })
  const wallUs = (performance.now() - started) * 1000
  const own = cpuOf(proxy.pid) - before.proxy
  const rest = cpuOf(upstreamPid) - before.upstream + (cpuOf('self') - before.self)
  if (result.non2xx || result.errors) throw new Error(`${result.non2xx + result.errors} failed requests`)
  return { perRequest: own / result.requests.total, others: rest / result.requests.total, coresBusy: (own + rest) / wallUs, rps: result.requests.average }
}

const medianLoad = (loads: Load[]): Load => ({
  perRequest: median(loads.map((l) => l.perRequest)),
  others: median(loads.map((l) => l.others)),
  coresBusy: median(loads.map((l) => l.coresBusy)),
  rps: median(loads.map((l) => l.rps)),
})

/**
 * Part 1: the baseline's and Plinth's CPU per request at concurrency 50, in alternating rounds so
 * that load from elsewhere falls on both alike, and how busy the machine is meanwhile.
 */
async function proxyCosts(): Promise<{ baseline: Load; plinth: Load }> {
  const { upstream, baseline, plinth, dataDir, stop } = await startGateway()
  const loads = { baseline: [] as Load[], plinth: [] as Load[] }
  // a first round each warms the JIT and is not counted
  for (let n = 0; n <= ROUNDS; n++) {
    const b = await round(baseline, upstream.pid)
    const p = await round(plinth, upstream.pid)
    if (n > 0) loads.baseline.push(b), loads.plinth.push(p)
  }
  stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
  return { baseline: medianLoad(loads.baseline), plinth: medianLoad(loads.plinth) }
}

/** Microseconds per call of `fn`, the median of five timed runs after a warm-up. */
async function time(calls: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < calls; i++) await fn()
  const runs: number[] = []
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) await fn()
    runs.push(((performance.now() - t0) * 1000) / calls)
  }
  return median(runs)
}

/** Part 2: each step Plinth must take per proxied request, alone. */
async function stepCosts() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-budget-'))
  const config = parseConfig({
    dataDir,
    log: { level: 'warn' },
    bootstrap: { projectKey: KEY },
    upstreams: [{ id: 'bench', baseURL: 'http://127.0.0.1:9/v1' }],
    models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }],
  })
  const ctx = await createContext(config)
  const principal = (await ctx.services.keys.authenticate(KEY)) as ProjectPrincipal
  const policy = headerPolicy({ organization: () => 'plinth', corsOrigins: config.server.corsOrigins })
  const ROWS_PER_FLUSH = 20 // about what one event-loop turn finishes under the benchmark's load
  const steps: [string, number][] = [
    ['key check (sha256 of the key, cached principal)', await time(20_000, () => ctx.services.keys.authenticate(KEY))],
    ['request validation (the chat request schema)', await time(20_000, () => validate(ChatCompletionCreateParams, body))],
    [
      'rate limits (reserve, settle, the six headers)',
      await time(20_000, async () => (await ctx.services.limits.reserve(principal, 'bench-model', { tokens: 20 })).settle(26)),
    ],
    [
      `usage record (${ROWS_PER_FLUSH} requests a flush, summed into one row, and its rollups)`,
      (await time(1_000, async () => {
        for (let i = 0; i < ROWS_PER_FLUSH; i++) void ctx.services.usage.record(principal, { operation: 'completions', model: 'bench-model', inputTokens: 12, outputTokens: 14 })
        await ctx.services.usage.settled()
      })) / ROWS_PER_FLUSH,
    ],
    ['debugging headers and request id', await time(20_000, () => policy.standard({ requestId: newRequestId(), startedAt: performance.now(), projectId: principal.projectId }))],
  ]
  await ctx.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
  return steps
}

async function main() {
  const { baseline: base, plinth } = await proxyCosts()
  const steps = await stepCosts()
  const sum = steps.reduce((total, [, us]) => total + us, 0)
  const B = base.perRequest
  const budget = B / 0.8 - B
  // a Plinth spread over every core, at 0.8x the baseline's rate: what the upstream and the load
  // generator leave of the machine, per request
  const target = 0.8 * base.rps
  const allCores = (os.cpus().length * 1e6 - target * base.others) / target
  const lines = [
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; medians of ${ROUNDS} alternating rounds of ${SECONDS} s at concurrency 50`,
    '',
    '| measure | baseline proxy | Plinth (openai-compatible) |',
    '|---|---|---|',
    `| requests/s | ${base.rps.toFixed(0)} | ${plinth.rps.toFixed(0)} (${(plinth.rps / base.rps).toFixed(2)}x) |`,
    `| CPU per request, all threads of the proxy | B = ${B.toFixed(1)} µs | ${plinth.perRequest.toFixed(1)} µs (${(plinth.perRequest / B).toFixed(2)}x) |`,
    `| CPU per request of the upstream and the load generator | ${base.others.toFixed(1)} µs | ${plinth.others.toFixed(1)} µs |`,
    `| cores busy, of ${os.cpus().length} | ${base.coresBusy.toFixed(2)} | ${plinth.coresBusy.toFixed(2)} |`,
    '',
    '| what 0.8x the baseline\'s throughput allows | µs per request |',
    '|---|---|',
    `| Plinth on one thread: CPU per request B / 0.8 | ${(B / 0.8).toFixed(1)} |`,
    `| of which for Plinth's own steps, beyond what the baseline does: 0.25 B | ${budget.toFixed(1)} |`,
    `| Plinth on every core: what the upstream and the load generator leave | ${allCores.toFixed(1)} |`,
    '',
    '| step Plinth must take (alone, warm, its own code) | µs per request |',
    '|---|---|',
    ...steps.map(([name, us]) => `| ${name} | ${us.toFixed(1)} |`),
    `| **sum** | **${sum.toFixed(1)}** (${(sum / budget).toFixed(2)} of the 0.25 B budget) |`,
    '',
    `The steps alone, with nothing between them, would allow ${(B / (B + sum)).toFixed(2)}x the baseline's throughput on one thread.`,
  ]
  console.log(lines.join('\n'))
}

main().catch((error) => {
  stopAll('SIGKILL')
  console.error(error)
  process.exitCode = 1
})
