// npx tsx bench/heap-probe.ts json|stream: what a proxied request allocates, by allocation site.
// Starts the gateway benchmark's servers with V8's sampling heap profiler preloaded in Plinth
// (bench/heap-sample.mjs, started and stopped by SIGUSR2), runs REQUESTS requests at concurrency
// 50 after WARMUP, and prints bytes per request: the total, then the sites (self) and the callers
// (self plus callees) that allocate most. HEAP_SAMPLE_MINOR=1 (the default here) counts every
// allocation; HEAP_SAMPLE_MINOR=0 only what outlived a scavenge (the garbage that costs most).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { BENCH_KEY, chatBody, startGateway } from './gateway-setup.js'

type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }

const mode = process.argv[2] === 'stream' ? 'stream' : 'json'
const REQUESTS = Number(process.env.REQUESTS ?? 10_000)
const TOP = Number(process.env.TOP ?? 30)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-heap-'))
process.env.HEAP_SAMPLE_DIR = dir
process.env.HEAP_SAMPLE_MINOR ??= '1'
process.env.BENCH_PLINTH_NODE_ARGS = [process.env.BENCH_PLINTH_NODE_ARGS, '--import ./bench/heap-sample.mjs'].filter(Boolean).join(' ')

const g = await startGateway()
try {
  const run = (amount: number) =>
    autocannon({ url: `${g.plinth.url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', mode === 'stream'), connections: 50, amount })
  await run(Number(process.env.WARMUP ?? 5_000))
  process.kill(g.plinth.pid, 'SIGUSR2')
  const result = await run(REQUESTS)
  process.kill(g.plinth.pid, 'SIGUSR2')
  const file = path.join(dir, 'heap-sample-0.json')
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  // the preload writes the file in one synchronous call once the profile is in
  await new Promise((resolve) => setTimeout(resolve, 500))
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: Node }
  const n = result.requests.total
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const name = (node: Node) => {
    const f = node.callFrame
    return `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${f.lineNumber + 1}`
  }
  const walk = (node: Node, above: Set<string>): number => {
    const key = name(node)
    self.set(key, (self.get(key) ?? 0) + node.selfSize)
    const inner = new Set(above).add(key)
    let sum = node.selfSize
    for (const child of node.children) sum += walk(child, inner)
    // a recursive frame counts once, at its outermost call
    if (!above.has(key)) total.set(key, (total.get(key) ?? 0) + sum)
    return sum
  }
  const all = walk(profile.head, new Set())
  const kb = (bytes: number) => (bytes / n).toFixed(0).padStart(7)
  console.log(`plinth ${mode}: ${kb(all).trim()} bytes allocated per request (${process.env.HEAP_SAMPLE_MINOR === '1' ? 'every allocation' : 'outlived a scavenge'}), ${n} requests, ${result.errors + result.non2xx} errors\n`)
  console.log('self (bytes per request, site):')
  for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${kb(bytes)}  ${key}`)
  console.log('\nwith callees:')
  for (const [key, bytes] of [...total].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${kb(bytes)}  ${key}`)
} finally {
  g.stop()
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(g.dataDir, { recursive: true, force: true })
}
