// CPU per proxied request, Plinth against the baseline proxy: utime+stime of every thread of each
// server (from /proc) over a fixed number of requests, in rounds that alternate the two (which one
// goes first alternates too), so that load from the other users of a shared machine falls on both
// alike. The median of the per-round ratios is the number reported; CPU time, unlike throughput,
// stays readable on a busy machine.
import autocannon from 'autocannon'
import { cpuMicros } from './proc.js'
import type { Server } from './gateway-setup.js'

export type CpuRound = { baseline: number; plinth: number; ratio: number }
export type CpuRatio = { mode: 'json' | 'stream'; rounds: CpuRound[]; median: CpuRound }

export type CpuRatioOptions = {
  /** requests per server per round */
  requests?: number
  rounds?: number
  connections?: number
  /** requests per server before the first round (JIT, caches, pools) */
  warmup?: number
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** µs of CPU per request that `server` spends on `requests` requests of `body`. */
async function cpuPerRequest(server: Server, key: string, body: string, requests: number, connections: number): Promise<number> {
  const before = cpuMicros(server.pid)
  const result = await autocannon({
    url: `${server.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
    connections,
    amount: requests,
  })
  const spent = cpuMicros(server.pid) - before
  if (result.non2xx || result.errors) throw new Error(`${server.url}: ${result.non2xx + result.errors} failed requests`)
  return spent / result.requests.total
}

export async function cpuRatio(servers: { baseline: Server; plinth: Server }, key: string, body: string, mode: 'json' | 'stream', options: CpuRatioOptions = {}): Promise<CpuRatio> {
  const { requests = 20_000, rounds = 5, connections = 50, warmup = 5_000 } = options
  await cpuPerRequest(servers.baseline, key, body, warmup, connections)
  await cpuPerRequest(servers.plinth, key, body, warmup, connections)
  const results: CpuRound[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'plinth'] as const) : (['plinth', 'baseline'] as const)
    const spent = { baseline: 0, plinth: 0 }
    for (const name of order) spent[name] = await cpuPerRequest(servers[name], key, body, requests, connections)
    results.push({ ...spent, ratio: spent.plinth / spent.baseline })
  }
  return {
    mode,
    rounds: results,
    median: { baseline: median(results.map((r) => r.baseline)), plinth: median(results.map((r) => r.plinth)), ratio: median(results.map((r) => r.ratio)) },
  }
}
