// PLINTH_B=/path/to/other/checkout npx tsx bench/cpu-ab.ts [json,stream]: CPU per proxied request
// of this tree's Plinth and of another build (a checkout with its dist/ built), beside the baseline,
// in alternating rounds on the same upstream (docs/benchmarks.md, "CPU per proxied request").
// PARALLEL=1 loads the two Plinths at once in each round (steadier on a machine others use).
import fs from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import { BENCH_KEY, chatBody, startGateway, startServer, type Server } from './gateway-setup.js'
import { cpuMicros } from './proc.js'
const g = await startGateway()
const other = process.env.PLINTH_B
if (!other) throw new Error('PLINTH_B: the other checkout, built (npm run build)')
const dir = fs.mkdtempSync('/tmp/plinth-ab-')
fs.writeFileSync(path.join(dir, 'plinth.json'), JSON.stringify({ server: { port: 0 }, log: { level: 'warn' }, upstreams: [{ id: 'bench', baseURL: `${g.upstream.url}/v1` }], models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }] }))
const b = await startServer(['--max-old-space-size=1024', path.join(other, 'bin/plinth.js'), 'serve', '--config', path.join(dir, 'plinth.json'), '--data-dir', dir], { PLINTH_BOOTSTRAP_PROJECT_KEY: BENCH_KEY, PLINTH_LOG_LEVEL: 'info' })
const servers: [string, Server][] = [['baseline', g.baseline], ['new', g.plinth], ['old', b]]
const N = Number(process.env.REQUESTS ?? 15000)
const run = async (s: Server, mode: string, amount: number) => {
  const c0 = cpuMicros(s.pid)
  const r = await autocannon({ url: `${s.url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', mode === 'stream'), connections: 50, amount })
  if (r.non2xx || r.errors) throw new Error('failed requests')
  return (cpuMicros(s.pid) - c0) / r.requests.total
}
for (const mode of (process.argv[2] ?? 'json,stream').split(',')) {
  for (const [, s] of servers) await run(s, mode, 4000)
  const res: Record<string, number[]> = { baseline: [], new: [], old: [] }
  for (let round = 0; round < Number(process.env.ROUNDS ?? 5); round++) {
    const order = round % 2 ? [...servers].reverse() : servers
    if (process.env.PARALLEL === '1') {
      // the two Plinths loaded at the same time: whatever else runs on the machine weighs on both
      // alike (a busy machine moves sequential rounds apart by more than the change measured)
      res.baseline.push(await run(g.baseline, mode, N))
      const [a, b2] = await Promise.all([run(g.plinth, mode, N), run(b, mode, N)])
      res.new.push(a)
      res.old.push(b2)
    } else for (const [name, s] of order) res[name].push(await run(s, mode, N))
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]
  const ratios = (name: string) => med(res[name].map((v, i) => v / res.baseline[i]))
  // the two Plinths of one round ran minutes apart at most: their ratio is the steadiest measure
  const paired = med(res.new.map((v, i) => v / res.old[i]))
  console.log(`${mode}: baseline ${med(res.baseline).toFixed(1)} µs; new ${med(res.new).toFixed(1)} µs (${ratios('new').toFixed(2)}x); old ${med(res.old).toFixed(1)} µs (${ratios('old').toFixed(2)}x); new/old per round, median ${paired.toFixed(3)} (${res.new.map((v, i) => (v / res.old[i]).toFixed(2)).join(' ')})`)
}
g.stop()
fs.rmSync(dir, { recursive: true, force: true })
fs.rmSync(g.dataDir, { recursive: true, force: true })
