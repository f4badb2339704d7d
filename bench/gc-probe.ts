// npx tsx bench/gc-probe.ts json|stream: what a proxied request costs the garbage collector, for
// Plinth and the baseline proxy. Each server runs with `--trace-gc-nvp` (one line of V8's own
// figures per collection, on its stdout); after WARMUP requests at concurrency 50, REQUESTS more,
// and the lines of that window are summed per request: bytes allocated, bytes that survived a
// scavenge (copied within the young generation), bytes promoted to the old generation (survived
// two), the scavenges' pause, and the full collections. RUNS fresh Plinths (default 3): whether a
// run promotes much or little was seen to be decided early in the run and to hold for all of it
// (docs/benchmarks.md, "What the garbage collector is given"), so one run alone can mislead.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { BENCH_KEY, chatBody, startServer, stopAll, type Server } from './gateway-setup.js'

const mode = process.argv[2] === 'stream' ? 'stream' : 'json'
const REQUESTS = Number(process.env.REQUESTS ?? 15_000)
const WARMUP = Number(process.env.WARMUP ?? 8_000)
const RUNS = Number(process.env.RUNS ?? 3)

/** Runs the warm-up and the measured window on one server; `log()` is its stdout since start. */
async function measure(name: string, server: Server, log: { text: string }) {
  const run = (amount: number) =>
    autocannon({ url: `${server.url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', mode === 'stream'), connections: 50, amount })
  await run(WARMUP)
  log.text = ''
  const result = await run(REQUESTS)
  if (result.errors || result.non2xx) throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`)
  const lines = log.text.split('\n')
  const scavenges = lines.filter((l) => l.includes(' gc=s '))
  const sum = (key: string) => scavenges.reduce((total, l) => total + Number(new RegExp(` ${key}=([0-9.]+)`).exec(l)?.[1] ?? 0), 0)
  const n = result.requests.total
  const full = lines.filter((l) => / gc=(mc|mmc|ms) /.test(l)).length
  console.log(
    `| ${name} | ${(sum('allocated') / n).toFixed(0)} | ${(sum('new_space_survived') / n).toFixed(0)} | ${(sum('promoted') / n).toFixed(0)} | ${((sum('pause') * 1000) / n).toFixed(1)} | ${scavenges.length} | ${full} |`,
  )
}

const upstream = await startServer(['--import', 'tsx', 'bench/upstream.ts'])
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-gc-'))
try {
  console.log(`${mode}: per request over ${REQUESTS} requests at concurrency 50, after ${WARMUP}\n`)
  console.log('| server | bytes allocated | survived a scavenge | promoted | scavenge pause µs | scavenges | full collections |')
  console.log('|---|---|---|---|---|---|---|')
  const baselineLog = { text: '' }
  const baseline = await startServer(['--trace-gc-nvp', '--import', 'tsx', 'bench/baseline-proxy.ts', upstream.url], {}, (t) => (baselineLog.text += t))
  await measure('baseline', baseline, baselineLog)
  process.kill(baseline.pid, 'SIGTERM')
  for (let i = 0; i < RUNS; i++) {
    const data = fs.mkdtempSync(path.join(dir, 'run-'))
    fs.writeFileSync(
      path.join(data, 'plinth.json'),
      JSON.stringify({ server: { port: 0 }, log: { level: 'warn' }, upstreams: [{ id: 'bench', baseURL: `${upstream.url}/v1` }], models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }] }),
    )
    const log = { text: '' }
    const args = ['--trace-gc-nvp', '--max-old-space-size=1024', 'bin/plinth.js', 'serve', '--config', path.join(data, 'plinth.json'), '--data-dir', data]
    const plinth = await startServer(args, { PLINTH_BOOTSTRAP_PROJECT_KEY: BENCH_KEY, PLINTH_LOG_LEVEL: 'info' }, (t) => (log.text += t))
    await measure(`plinth, run ${i + 1}`, plinth, log)
    process.kill(plinth.pid, 'SIGTERM')
    await plinth.exited
  }
} finally {
  stopAll()
  fs.rmSync(dir, { recursive: true, force: true })
}
