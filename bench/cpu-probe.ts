// npx tsx bench/cpu-probe.ts json|stream: CPU per proxied request, Plinth against the baseline
import fs from 'node:fs'
import autocannon from 'autocannon'
import { BENCH_KEY as KEY, startGateway } from './gateway-setup.js'
import { cpuMicros } from './proc.js'
const cpu = (pid: number) => cpuMicros(pid) / 1000 // ms
const { baseline: base, plinth: pl, dataDir, stop } = await startGateway()
const mode = process.argv[2] ?? 'json'
const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello from the benchmark upstream, a fixed answer.' }], ...(mode === 'stream' ? { stream: true } : {}) })
// rounds alternate baseline and Plinth so that load from elsewhere hits both alike; the median
// of the per-round ratios is the number to watch
const rounds = Number(process.env.ROUNDS ?? 4)
const ratios: number[] = []
for (let round = 0; round < rounds; round++) {
  const perReq: Record<string, number> = {}
  for (const [name, t] of [['baseline', base], ['plinth', pl]] as const) {
    const c0 = cpu(t.pid)
    const r = await autocannon({ url: `http://127.0.0.1:${t.port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body, connections: 50, duration: 3 })
    const c1 = cpu(t.pid)
    perReq[name] = ((c1 - c0) * 1000) / r.requests.total
    console.log(name.padEnd(10), mode, 'req', r.requests.total, 'cpu/req', perReq[name].toFixed(1), 'us', 'rps', r.requests.average.toFixed(0), 'non2xx', r.non2xx)
  }
  ratios.push(perReq.plinth / perReq.baseline)
}
ratios.sort((a, b) => a - b)
console.log('median CPU/request, Plinth / baseline:', ratios[Math.floor(ratios.length / 2)].toFixed(2), ' all:', ratios.map((r) => r.toFixed(2)).join(' '))
stop()
fs.rmSync(dataDir, { recursive: true, force: true })
