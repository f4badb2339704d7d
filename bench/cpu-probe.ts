import { spawn } from 'node:child_process'
import fs from 'node:fs'
import autocannon from 'autocannon'
const KEY = 'sk-proj-bench-000000000000000000000000'
function cpu(pid: number) { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10 } // ms
function start(cmd: string, args: string[], env = {}) { const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }); return new Promise<{ pid: number, port: number, c: any }>((res) => { let o = ''; c.stdout!.on('data', (d) => { o += d; const m = /LISTENING (\d+)|ready on http:\/\/127\.0\.0\.1:(\d+)/.exec(o); if (m) res({ pid: c.pid!, port: Number(m[1] ?? m[2]), c }) }) }) }
const up = await start(process.execPath, ['--import', 'tsx', 'bench/upstream.ts'])
const base = await start(process.execPath, ['--import', 'tsx', 'bench/baseline-proxy.ts', `http://127.0.0.1:${up.port}`])
fs.writeFileSync('/tmp/pcfg2.json', JSON.stringify({ server: { port: 0 }, log: { level: 'warn' }, upstreams: [{ id: 'b', baseURL: `http://127.0.0.1:${up.port}/v1` }], models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'b' }] }))
fs.rmSync('/tmp/pd4', { recursive: true, force: true })
const pl = await start(process.execPath, ['bin/plinth.js', 'serve', '--config', '/tmp/pcfg2.json', '--data-dir', '/tmp/pd4'], { PLINTH_BOOTSTRAP_PROJECT_KEY: KEY, PLINTH_LOG_LEVEL: 'info' })
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
for (const p of [up, base, pl]) p.c.kill()
