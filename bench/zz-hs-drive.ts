import autocannon from 'autocannon'
import { BENCH_KEY, chatBody, startGateway } from './gateway-setup.js'
const g = await startGateway()
const mode = process.argv[2] ?? 'stream'
const run = (amount: number) => autocannon({ url: `${g.plinth.url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', mode === 'stream'), connections: 50, amount })
await run(5000)
process.kill(g.plinth.pid, 'SIGUSR2')
await new Promise((r) => setTimeout(r, 200))
const r = await run(10000)
process.kill(g.plinth.pid, 'SIGUSR2')
await new Promise((r) => setTimeout(r, 2000))
console.log('requests', r.requests.total, 'errors', r.errors, r.non2xx)
g.stop()
