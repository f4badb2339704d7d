// PLINTH_B=/path/to/other/checkout npx tsx bench/latency-ab.ts: p50 latency at concurrency 1 of this
// tree's Plinth and of another build (built), in 5 alternating rounds of 2,000 sequential requests.
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { BENCH_KEY, chatBody, startGateway, startServer } from './gateway-setup.js'
const g = await startGateway()
const other = process.env.PLINTH_B!
const dir = fs.mkdtempSync('/tmp/plinth-ab-')
fs.writeFileSync(path.join(dir, 'plinth.json'), JSON.stringify({ server: { port: 0 }, log: { level: 'warn' }, upstreams: [{ id: 'bench', baseURL: `${g.upstream.url}/v1` }], models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }] }))
const b = await startServer(['--max-old-space-size=1024', path.join(other, 'bin/plinth.js'), 'serve', '--config', path.join(dir, 'plinth.json'), '--data-dir', dir], { PLINTH_BOOTSTRAP_PROJECT_KEY: BENCH_KEY, PLINTH_LOG_LEVEL: 'info' })
const seq = async (url: string, stream: boolean, n: number) => {
  const l: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const r = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', stream) })
    await r.body.text()
    l.push(performance.now() - t0)
  }
  l.sort((a, b) => a - b)
  return l[l.length >> 1]
}
for (const stream of [false, true]) {
  const res: Record<string, number[]> = { new: [], old: [] }
  for (const [n, s] of [['new', g.plinth], ['old', b]] as const) await seq(s.url, stream, 500)
  for (let round = 0; round < 5; round++) {
    for (const [n, s] of (round % 2 ? [['old', b], ['new', g.plinth]] : [['new', g.plinth], ['old', b]]) as [string, { url: string }][]) res[n].push(await seq(s.url, stream, 2000))
  }
  console.log(stream ? 'stream' : 'json', 'new', res.new.map((v) => v.toFixed(3)).join(' '), '| old', res.old.map((v) => v.toFixed(3)).join(' '))
}
g.stop()
fs.rmSync(dir, { recursive: true, force: true })
fs.rmSync(g.dataDir, { recursive: true, force: true })
