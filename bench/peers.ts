// npm run bench:peers: Plinth next to other gateways from npm (bench/peers-setup.ts) and the
// baseline proxy, all in front of the same fake upstream, each in its own process. At
// concurrency 50, JSON and streamed, in rounds that alternate the servers' order; CPU per
// request is each server process's (all its threads) from /proc. The numbers that matter are
// Plinth's ratios to Portkey's, taken in each round and reported as medians.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BENCH_KEY as KEY, startGateway, stopAll } from './gateway-setup.js'
import { answerText, chatBody, measureLoad, median, wholeAnswer, type LoadResult } from './load.js'
import { PEERS, startPeer } from './peers-setup.js'
import { statusKb } from './proc.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 6)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const connections = 50
// BENCH_PEERS=portkey to leave the others out
const only = process.env.BENCH_PEERS?.split(',')
const TARGETS = { throughput: 5, cpu: 1 / 5 }

// the run's scratch folders, removed at the end whether it failed or not
const scratch: string[] = []

type Target = { name: string; url: string; headers: Record<string, string>; pid: number }
type Row = LoadResult & { target: string; mode: 'json' | 'stream'; round: number }

/** Twenty answers of each kind, compared with the upstream's own: how many were not whole. */
async function checkAnswers(target: Target, expected: string): Promise<{ json: number; stream: number; first?: string }> {
  const failed = { json: 0, stream: 0 } as { json: number; stream: number; first?: string }
  for (const mode of ['json', 'stream'] as const) {
    for (let i = 0; i < 20; i++) {
      const answer = await answerText(target.url, target.headers, chatBody('bench-model', mode === 'stream'))
      if (answer === expected) continue
      failed[mode]++
      failed.first ??= `${mode}: ${answer instanceof Error ? answer.message : JSON.stringify(answer)}`
    }
  }
  return failed
}

async function main() {
  const { upstream, baseline, plinth, dataDir } = await startGateway()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-peers-run-'))
  scratch.push(dataDir, work)
  const auth = { authorization: `Bearer ${KEY}` }
  const targets: Target[] = [
    { name: 'baseline proxy', url: `${baseline.url}/v1/chat/completions`, headers: auth, pid: baseline.pid },
    { name: 'plinth', url: `${plinth.url}/v1/chat/completions`, headers: auth, pid: plinth.pid },
  ]
  const versions: string[] = []
  for (const listed of PEERS.filter((p) => !only || only.includes(p.name))) {
    // BENCH_PEER_OVERRIDES=0: each peer as a plain `npm install` resolves it (Portkey's streams fail)
    const spec = process.env.BENCH_PEER_OVERRIDES === '0' ? { ...listed, overrides: undefined } : listed
    const peer = await startPeer(spec, upstream.url, work)
    targets.push({ name: spec.name, url: peer.url, headers: { ...auth, ...peer.headers }, pid: peer.server.pid })
    versions.push(`${spec.pkg}@${spec.version}${spec.overrides ? ` (overrides ${Object.entries(spec.overrides).map(([k, v]) => `${k}@${v}`).join(', ')})` : ''}`)
  }

  const expected = await answerText(`${upstream.url}/v1/chat/completions`, {}, chatBody('bench-model', false))
  if (expected instanceof Error) throw expected
  const checks = new Map<string, Awaited<ReturnType<typeof checkAnswers>>>()
  const warmErrors = new Map<string, number>()
  for (const target of targets) {
    const check = await checkAnswers(target, expected)
    checks.set(target.name, check)
    if (check.first) console.error(`${target.name}: ${check.json} JSON and ${check.stream} streamed answers of 20 not whole; first: ${check.first}`)
    // warm: each server's code paths compiled before anything counts (its errors are reported)
    for (const stream of [false, true]) {
      const warm = await measureLoad({ url: target.url, headers: target.headers, body: chatBody('bench-model', stream), connections: 10, seconds: 1, pids: [target.pid], verifyBody: wholeAnswer(expected, stream) })
      warmErrors.set(`${target.name} ${stream ? 'stream' : 'json'}`, warm.errors)
    }
  }

  const rows: Row[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['json', 'stream'] as const) {
      // every other round in reverse, so that a change in the machine's load falls on all alike
      for (const target of round % 2 ? targets : [...targets].reverse()) {
        const stream = mode === 'stream'
        const result = await measureLoad({ url: target.url, headers: target.headers, body: chatBody('bench-model', stream), connections, seconds, pids: [target.pid], verifyBody: wholeAnswer(expected, stream) })
        rows.push({ ...result, target: target.name, mode, round })
        console.error(`round ${round} ${mode.padEnd(6)} ${target.name.padEnd(14)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  ${result.cpuPerRequest.toFixed(0).padStart(5)} µs CPU/request  errors ${result.errors}`)
      }
    }
  }
  const peakRss = new Map(targets.map((t) => [t.name, Math.round(statusKb(t.pid, 'VmHWM') / 1024)]))
  stopAll()
  report(targets, rows, checks, warmErrors, peakRss, versions)
}

function report(targets: Target[], rows: Row[], checks: Map<string, { json: number; stream: number }>, warmErrors: Map<string, number>, peakRss: Map<string, number>, versions: string[]) {
  const lines: string[] = []
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ')
  lines.push(`Machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${seconds} s per run, ${rounds} rounds, concurrency ${connections}, load average after: ${load}`)
  lines.push(`Peers: ${versions.join('; ')}`)
  lines.push('')
  lines.push('| server | mode | req/s (median) | p50 ms | p99 ms | CPU/request (median) | errors under load | errors in warm-up | sequential answers not whole (of 20) | peak RSS |')
  lines.push('|---|---|---|---|---|---|---|---|---|---|')
  const of = (name: string, mode: string) => rows.filter((r) => r.target === name && r.mode === mode)
  for (const mode of ['json', 'stream'] as const) {
    for (const target of targets) {
      const mine = of(target.name, mode)
      const m = (pick: (r: Row) => number) => median(mine.map(pick))
      lines.push(`| ${target.name} | ${mode} | ${m((r) => r.rps).toFixed(0)} | ${m((r) => r.p50).toFixed(0)} | ${m((r) => r.p99).toFixed(0)} | ${m((r) => r.cpuPerRequest).toFixed(0)} µs | ${mine.reduce((s, r) => s + r.errors, 0)} | ${warmErrors.get(`${target.name} ${mode}`)} | ${checks.get(target.name)![mode]} | ${peakRss.get(target.name)} MB |`)
    }
  }
  lines.push('')
  lines.push('| Plinth against (median of the per-round ratios) | mode | throughput | CPU/request | Plinth errors (all phases) | peer errors (its own, all phases) |')
  lines.push('|---|---|---|---|---|---|')
  const verdicts: string[] = []
  for (const peer of targets.filter((t) => t.name !== 'plinth')) {
    for (const mode of ['json', 'stream'] as const) {
      const mine = of('plinth', mode)
      const theirs = of(peer.name, mode)
      const throughput = median(mine.map((r, i) => r.rps / theirs[i].rps))
      const cpu = median(mine.map((r, i) => r.cpuPerRequest / theirs[i].cpuPerRequest))
      const errors = (name: string, rows: Row[]) => rows.reduce((s, r) => s + r.errors, 0) + checks.get(name)![mode] + warmErrors.get(`${name} ${mode}`)!
      const plinthErrors = errors('plinth', mine)
      const peerErrors = errors(peer.name, theirs)
      lines.push(`| ${peer.name} | ${mode} | ${throughput.toFixed(2)}x | ${cpu.toFixed(2)}x | ${plinthErrors} | ${peerErrors} |`)
      if (peer.name === 'portkey') {
        const met = throughput >= TARGETS.throughput && cpu <= TARGETS.cpu && plinthErrors === 0
        verdicts.push(`${mode}: throughput ${throughput.toFixed(2)}x (target >= ${TARGETS.throughput}x), CPU/request ${cpu.toFixed(2)}x (target <= ${TARGETS.cpu.toFixed(2)}x), Plinth errors ${plinthErrors} (target 0): ${met ? 'met' : 'NOT met'}`)
      }
    }
  }
  if (verdicts.length) lines.push('', 'Targets against Portkey:', ...verdicts.map((v) => `- ${v}`))
  console.log(lines.join('\n'))
}

main()
  .catch((error) => {
    stopAll('SIGKILL')
    console.error(error)
    process.exitCode = 1
  })
  .finally(() => {
    for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true })
  })
