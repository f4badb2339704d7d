// npm run bench: the gateway benchmark of issues 2 and 18. Every server runs in its own process;
// the numbers that matter are Plinth's ratios to the baseline proxy measured in the same run, first
// of all its CPU per proxied request (bench/cpu-ratio.ts), which a busy shared machine leaves
// readable where it does not leave throughput.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { request } from 'undici'
import { cpuRatio, type CpuRatio } from './cpu-ratio.js'
import { BENCH_KEY as KEY, startGateway, stopAll } from './gateway-setup.js'
import { chatBody } from './load.js'
import { statusKb } from './proc.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
/** The CPU ratio's rounds and requests per server per round. */
const cpuRounds = Number(process.env.BENCH_CPU_ROUNDS ?? 5)
const cpuRequests = Number(process.env.BENCH_CPU_REQUESTS ?? 10_000)
const latencyRounds = Number(process.env.BENCH_LATENCY_ROUNDS ?? 5)
/** Issue 18's targets: Plinth's CPU per proxied request at most this many times the baseline's. */
const CPU_TARGET = { json: 1.5, stream: 1.8 }

/** The same conversation as chatBody's, as a Responses request (stored, as by default). */
const responsesBody = (model: string) =>
  JSON.stringify({
    model,
    instructions: 'You are a benchmark.',
    input: 'Say hello from the benchmark upstream, a fixed answer of some length.',
  })

type Target = { name: string; url: string; model: string; pid?: number }
type Row = { target: string; mode: string; c: number; rps: number; p50: number; p99: number; errors: number }

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Math.round(statusKb(pid, field) / 1024)
}

/**
 * The RSS of a server left idle: V8 returns the start's garbage (the tokenizer's load, module
 * compilation) only when its memory reducer runs, some 30-40 s after the last allocations, so the
 * lowest reading over `BENCH_IDLE_SECONDS` (60) is what an idle node holds.
 */
async function settledRss(pid: number): Promise<number> {
  const until = Date.now() + Number(process.env.BENCH_IDLE_SECONDS ?? 60) * 1000
  let lowest = rssMb(pid, 'VmRSS')
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 2000))
    lowest = Math.min(lowest, rssMb(pid, 'VmRSS'))
  }
  return lowest
}

/** Concurrency 1 with microsecond timing: autocannon's histogram is too coarse for 0.5 ms. */
async function sequential(target: Target, stream: boolean, api: 'chat' | 'responses' = 'chat', runSeconds = seconds): Promise<Row> {
  const body = api === 'chat' ? chatBody(target.model, stream) : responsesBody(target.model)
  const endpoint = api === 'chat' ? '/v1/chat/completions' : '/v1/responses'
  const latencies: number[] = []
  let errors = 0
  const until = performance.now() + runSeconds * 1000
  while (performance.now() < until) {
    const t0 = performance.now()
    const response = await request(`${target.url}${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body,
    })
    await response.body.text()
    if (response.statusCode !== 200) errors++
    latencies.push(performance.now() - t0)
  }
  latencies.sort((a, b) => a - b)
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { target: target.name, mode: api === 'responses' ? 'responses' : stream ? 'stream' : 'json', c: 1, rps: latencies.length / runSeconds, p50: pick(0.5), p99: pick(0.99), errors }
}

async function loaded(target: Target, stream: boolean, connections: number): Promise<Row> {
  const result = await autocannon({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: chatBody(target.model, stream),
    connections,
    duration: seconds,
  })
  return {
    target: target.name,
    mode: stream ? 'stream' : 'json',
    c: connections,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors,
  }
}

async function warm(target: Target) {
  for (let i = 0; i < 200; i++) {
    const r = await request(`${target.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: chatBody(target.model, i % 2 === 0) })
    await r.body.text()
  }
}

async function main() {
  const loadBefore = os.loadavg()
  const { upstream, baseline, plinth, dataDir } = await startGateway()
  const upstreamUrl = upstream.url
  await new Promise((r) => setTimeout(r, 500))
  const plinthPid = plinth.pid
  const startRss = rssMb(plinthPid, 'VmRSS')
  const idleRss = await settledRss(plinthPid)

  const targets: Target[] = [
    { name: 'upstream direct', url: upstreamUrl, model: 'bench-model' },
    { name: 'baseline proxy', url: `http://127.0.0.1:${baseline.port}`, model: 'bench-model' },
    { name: 'plinth (openai-compatible)', url: `http://127.0.0.1:${plinth.port}`, model: 'bench-model' },
    { name: 'plinth (test-echo)', url: `http://127.0.0.1:${plinth.port}`, model: 'test-echo' },
  ]
  const rows: Row[] = []
  let proxyPeakRss = 0
  for (const target of targets) {
    await warm(target)
    for (const stream of [false, true]) {
      rows.push(await sequential(target, stream))
      rows.push(await loaded(target, stream, 50))
      const last = rows.slice(-2)
      for (const r of last) console.error(`${r.target.padEnd(28)} ${r.mode.padEnd(6)} c=${String(r.c).padEnd(3)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  errors ${r.errors}`)
    }
    // the proxy path's own peak, before the test-echo rows load the o200k tokenizer (70 MB)
    if (target.name === 'plinth (openai-compatible)') proxyPeakRss = rssMb(plinthPid, 'VmHWM')
  }
  // CPU per proxied request, Plinth against the baseline, in alternating rounds
  const cpu: CpuRatio[] = []
  for (const mode of ['json', 'stream'] as const) {
    const result = await cpuRatio({ baseline, plinth }, KEY, chatBody('bench-model', mode === 'stream'), mode, { rounds: cpuRounds, requests: cpuRequests })
    cpu.push(result)
    for (const r of result.rounds) console.error(`cpu per request ${mode.padEnd(6)} baseline ${r.baseline.toFixed(1)} µs  plinth ${r.plinth.toFixed(1)} µs  ${r.ratio.toFixed(2)}x`)
  }
  // the added latency at concurrency 1, in alternating rounds (which goes first alternates too),
  // as the CPU ratio is: one pair of 10 s runs minutes apart moved by ±0.05 ms with the machine
  const added: Record<'json' | 'stream', number[]> = { json: [], stream: [] }
  for (const stream of [false, true]) {
    for (let round = 0; round < latencyRounds; round++) {
      const pair = round % 2 ? [targets[2], targets[1]] : [targets[1], targets[2]]
      const [a, b] = [await sequential(pair[0], stream, 'chat', 3), await sequential(pair[1], stream, 'chat', 3)]
      const [base, plinthRow] = pair[0] === targets[1] ? [a, b] : [b, a]
      added[stream ? 'stream' : 'json'].push(plinthRow.p50 - base.p50)
      console.error(`added latency ${stream ? 'stream' : 'json  '} baseline ${base.p50.toFixed(3)} ms  plinth ${plinthRow.p50.toFixed(3)} ms`)
    }
  }
  // the Responses API over chat on the same model, in turns so both see the same machine
  for (const target of targets.slice(2)) {
    for (let round = 0; round < 2; round++) {
      const chat = await sequential(target, false)
      const responses = await sequential(target, false, 'responses')
      rows.push({ ...chat, mode: 'json (vs responses)' }, responses)
      for (const r of [chat, responses]) console.error(`${r.target.padEnd(28)} ${r.mode.padEnd(9)} c=1   p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  errors ${r.errors}`)
    }
  }
  const peakRss = rssMb(plinthPid, 'VmHWM')
  const usage = await usageRequests(path.join(dataDir, 'plinth.db'))
  stopAll()
  await Promise.all([upstream, baseline, plinth].map((server) => server.exited))
  fs.rmSync(dataDir, { recursive: true, force: true })
  report(rows, cpu, added, { startRss, idleRss, peakRss, proxyPeakRss, ...usage }, [loadBefore, os.loadavg()])
}

/** The usage records' rows and the requests they count (a row holds a flush's requests of one key). */
async function usageRequests(file: string): Promise<{ usageRows: number; usageRequests: number }> {
  const { default: SQLite } = await import('better-sqlite3')
  const db = new SQLite(file, { readonly: true })
  const row = db.prepare('SELECT count(*) AS n, coalesce(sum(requests), 0) AS requests FROM usage_records').get() as { n: number; requests: number }
  db.close()
  return { usageRows: row.n, usageRequests: row.requests }
}

function report(rows: Row[], cpuRatios: CpuRatio[], added: Record<'json' | 'stream', number[]>, memory: { startRss: number; idleRss: number; peakRss: number; proxyPeakRss: number; usageRows: number; usageRequests: number }, load: number[][]) {
  const find = (target: string, mode: string, c: number) => rows.find((r) => r.target === target && r.mode === mode && r.c === c)!
  const lines: string[] = []
  const cpu = os.cpus()[0]?.model ?? 'unknown'
  const ratioOf = (mode: 'json' | 'stream') => cpuRatios.find((r) => r.mode === mode)!.median
  const throughput = (mode: string) => find('plinth (openai-compatible)', mode, 50).rps / find('baseline proxy', mode, 50).rps
  // the median of the alternating rounds' differences (the rows' single runs are in the table)
  const latency = (mode: 'json' | 'stream') => [...added[mode]].sort((a, b) => a - b)[added[mode].length >> 1]
  const met = (ok: boolean) => (ok ? 'met' : 'not met')
  // the headline: CPU per proxied request, then throughput and latency of the same run
  lines.push(
    `CPU per request vs baseline: JSON ${ratioOf('json').ratio.toFixed(2)}x (target ≤${CPU_TARGET.json}x, ${met(ratioOf('json').ratio <= CPU_TARGET.json)}) · stream ${ratioOf('stream').ratio.toFixed(2)}x (target ≤${CPU_TARGET.stream}x, ${met(ratioOf('stream').ratio <= CPU_TARGET.stream)})`,
  )
  lines.push(
    `  (µs per request, all threads, medians of ${cpuRounds} alternating rounds of ${cpuRequests} requests at concurrency 50: baseline ${ratioOf('json').baseline.toFixed(1)} / Plinth ${ratioOf('json').plinth.toFixed(1)} JSON, baseline ${ratioOf('stream').baseline.toFixed(1)} / Plinth ${ratioOf('stream').plinth.toFixed(1)} stream)`,
  )
  lines.push(`Throughput vs baseline at concurrency 50: JSON ${throughput('json').toFixed(2)}x · stream ${throughput('stream').toFixed(2)}x`)
  lines.push(`Added p50 latency at concurrency 1: JSON ${latency('json').toFixed(3)} ms · stream ${latency('stream').toFixed(3)} ms (target ≤0.5 ms, ${met(Math.max(latency('json'), latency('stream')) <= 0.5)}; median of ${latencyRounds} alternating rounds of 3 s: JSON ${added.json.map((v) => v.toFixed(3)).join(' ')}, stream ${added.stream.map((v) => v.toFixed(3)).join(' ')})`)
  lines.push('')
  lines.push(`Machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${seconds} s per run, load average ${load[0][0].toFixed(1)} at the start, ${load[1][0].toFixed(1)} at the end`)
  lines.push('')
  lines.push('| target | mode | concurrency | req/s | p50 ms | p99 ms | errors |')
  lines.push('|---|---|---|---|---|---|---|')
  for (const r of rows) lines.push(`| ${r.target} | ${r.mode} | ${r.c} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.errors} |`)
  lines.push('')
  lines.push('| check (Plinth via openai-compatible vs baseline proxy, same run) | json | stream | target |')
  lines.push('|---|---|---|---|')
  lines.push(`| CPU per request, all threads (median of the rounds' ratios) | ${ratioOf('json').ratio.toFixed(2)}x | ${ratioOf('stream').ratio.toFixed(2)}x | <= ${CPU_TARGET.json}x / <= ${CPU_TARGET.stream}x |`)
  lines.push(`| throughput ratio at concurrency 50 | ${throughput('json').toFixed(2)}x | ${throughput('stream').toFixed(2)}x | >= 0.80x |`)
  lines.push(`| added p50 latency at concurrency 1 (median of ${latencyRounds} alternating rounds) | ${latency('json').toFixed(3)} ms | ${latency('stream').toFixed(3)} ms | <= 0.5 ms |`)
  for (const target of ['plinth (openai-compatible)', 'plinth (test-echo)']) {
    const pairs = rows.filter((r) => r.target === target && r.mode === 'responses')
    const chats = rows.filter((r) => r.target === target && r.mode === 'json (vs responses)')
    const overhead = pairs.map((r, i) => r.p50 - chats[i].p50).sort((a, b) => a - b)[0]
    lines.push(`| /v1/responses over /v1/chat/completions, stored, p50 at c=1, ${target} (best of ${pairs.length} rounds) | ${overhead.toFixed(3)} ms | | < 0.2 ms |`)
  }
  lines.push(`| Plinth RSS idle (lowest over ${process.env.BENCH_IDLE_SECONDS ?? 60} s after start; ${memory.startRss} MB at start) / peak under load, proxy path / whole run | ${memory.idleRss} MB / ${memory.proxyPeakRss} MB / ${memory.peakRss} MB | | < 150 MB / < 300 MB |`)
  lines.push(`| requests in the usage records (auth + accounting were on) | ${memory.usageRequests} in ${memory.usageRows} rows | | every Plinth request |`)
  console.log(lines.join('\n'))
}

main().catch((error) => {
  stopAll('SIGKILL')
  console.error(error)
  process.exitCode = 1
})
