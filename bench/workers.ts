// npm run bench:workers: Plinth with `--workers 1` against `--workers 2` (and more with
// BENCH_WORKERS=1,2,4), proxying to the gateway benchmark's fake upstream at concurrency 50, JSON
// and streamed, in alternating rounds. CPU is read from /proc for every process of each server
// (the primary and its workers) and for the upstream; the load generator is this process.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { request } from 'undici'
import { BENCH_KEY as KEY, startServer, stopAll, type Server } from './gateway-setup.js'
import { cpuMicros } from './proc.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 6)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const counts = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number)
const connections = 50

const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: 'bench-model',
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: 'Say hello from the benchmark upstream, a fixed answer of some length.' },
    ],
    ...(stream ? { stream: true } : {}),
  })

type Row = { workers: number; mode: string; round: number; rps: number; p50: number; p99: number; errors: number; cpuPerRequest: number; upstreamCpuPerRequest: number; selfCpuPerRequest: number; coresBusy: number }

/** The server's processes: the primary and the workers it forked (children in /proc). */
function processTree(pid: number): number[] {
  const children = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)
  return [pid, ...children]
}

async function startPlinth(upstreamUrl: string, workers: number): Promise<Server & { pids: number[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `plinth-bench-w${workers}-`))
  const configFile = path.join(dataDir, 'plinth.json')
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      server: { port: 0, workers },
      log: { level: 'warn' },
      upstreams: [{ id: 'bench', baseURL: `${upstreamUrl}/v1` }],
      models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }],
    }),
  )
  // as the gateway benchmark starts it (bench/gateway-setup.ts), with its 1 GB heap limit
  const server = await startServer(['--max-old-space-size=1024', 'bin/plinth.js', 'serve', '--config', configFile, '--data-dir', dataDir], {
    PLINTH_BOOTSTRAP_PROJECT_KEY: KEY,
    PLINTH_LOG_LEVEL: 'info',
  })
  const pids = processTree(server.pid)
  if (pids.length !== (workers > 1 ? workers + 1 : 1)) throw new Error(`expected ${workers} workers, found processes ${pids.join(', ')}`)
  return { ...server, pids }
}

async function warm(url: string) {
  // enough connections that every worker gets some, and warms its code
  await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: chatBody(false), connections: 8, amount: 2000 })
  const r = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: chatBody(true) })
  await r.body.text()
}

async function measure(server: Server & { pids: number[] }, upstreamPid: number, workers: number, stream: boolean, round: number): Promise<Row> {
  const cpu = () => server.pids.reduce((sum, pid) => sum + cpuMicros(pid), 0)
  const before = { plinth: cpu(), upstream: cpuMicros(upstreamPid), self: cpuMicros('self'), at: performance.now() }
  const result = await autocannon({
    url: `${server.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: chatBody(stream),
    connections,
    duration: seconds,
  })
  const elapsedUs = (performance.now() - before.at) * 1000
  const total = result.requests.total
  const plinthCpu = cpu() - before.plinth
  const upstreamCpu = cpuMicros(upstreamPid) - before.upstream
  const selfCpu = cpuMicros('self') - before.self
  return {
    workers,
    mode: stream ? 'stream' : 'json',
    round,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors,
    cpuPerRequest: plinthCpu / total,
    upstreamCpuPerRequest: upstreamCpu / total,
    selfCpuPerRequest: selfCpu / total,
    coresBusy: (plinthCpu + upstreamCpu + selfCpu) / elapsedUs,
  }
}

async function main() {
  const upstream = await startServer(['--import', 'tsx', 'bench/upstream.ts'])
  const servers = new Map<number, Server & { pids: number[] }>()
  for (const n of counts) {
    servers.set(n, await startPlinth(upstream.url, n))
    await warm(servers.get(n)!.url)
  }
  const rows: Row[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const stream of [false, true]) {
      for (const n of counts) {
        const row = await measure(servers.get(n)!, upstream.pid, n, stream, round)
        rows.push(row)
        console.error(`workers=${n} ${row.mode.padEnd(6)} round ${round}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.cpuPerRequest.toFixed(0)} µs CPU/request, ${row.coresBusy.toFixed(2)} cores busy, errors ${row.errors}`)
      }
    }
  }
  stopAll()
  report(rows)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function report(rows: Row[]) {
  const lines: string[] = []
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ')
  lines.push(`Machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${seconds} s per run, ${rounds} rounds, concurrency ${connections}, load average after: ${load}`)
  lines.push('')
  lines.push('| workers | mode | req/s (median) | p50 ms | p99 ms | CPU/request, Plinth (all processes) | CPU/request, upstream | CPU/request, load generator | cores busy | errors |')
  lines.push('|---|---|---|---|---|---|---|---|---|---|')
  for (const mode of ['json', 'stream']) {
    for (const n of counts) {
      const mine = rows.filter((r) => r.workers === n && r.mode === mode)
      const m = (pick: (r: Row) => number) => median(mine.map(pick))
      lines.push(
        `| ${n} | ${mode} | ${m((r) => r.rps).toFixed(0)} | ${m((r) => r.p50).toFixed(0)} | ${m((r) => r.p99).toFixed(0)} | ${m((r) => r.cpuPerRequest).toFixed(0)} µs | ${m((r) => r.upstreamCpuPerRequest).toFixed(0)} µs | ${m((r) => r.selfCpuPerRequest).toFixed(0)} µs | ${m((r) => r.coresBusy).toFixed(2)} | ${mine.reduce((s, r) => s + r.errors, 0)} |`,
      )
    }
  }
  lines.push('')
  const base = counts[0]
  for (const n of counts.slice(1)) {
    for (const mode of ['json', 'stream']) {
      const rps = (w: number) => median(rows.filter((r) => r.workers === w && r.mode === mode).map((r) => r.rps))
      lines.push(`throughput ${n} workers / ${base}: ${(rps(n) / rps(base)).toFixed(2)}x (${mode})`)
    }
  }
  console.log(lines.join('\n'))
}

main().catch((error) => {
  stopAll('SIGKILL')
  console.error(error)
  process.exitCode = 1
})
