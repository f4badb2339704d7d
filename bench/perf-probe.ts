// npx tsx bench/perf-probe.ts json|stream [plinth|baseline]: where a proxied request's CPU goes.
// `perf record -e cpu-clock -g` on the server's process (every thread) over REQUESTS requests at
// concurrency 50, after WARMUP, with `node --perf-basic-prof` so JIT frames have names; the
// samples are then put in buckets by what their stack holds (first bucket that matches wins) and
// printed as µs per request. cpu-clock samples on-CPU time only: `node --cpu-prof`'s time deltas
// are wall time and, on a busy machine, charge other processes' time to whatever was running
// (socket writes that wake the reader showed 4x their CPU). Needs perf (linux-tools) and root or
// perf_event_paranoid <= 1.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { BENCH_KEY, chatBody, startGateway } from './gateway-setup.js'
import { cpuMicros } from './proc.js'

const mode = process.argv[2] ?? 'json'
const target = process.argv[3] ?? 'plinth'
const REQUESTS = Number(process.env.REQUESTS ?? 20_000)
const HZ = 2000

/** [bucket, stack pattern, second pattern the stack must also hold] */
const BUCKETS: [string, RegExp, RegExp?][] = [
  ['garbage collection (main thread)', /Scavenge|MarkCompact|Heap::CollectGarbage|Heap::PerformGarbage|IncrementalMarking/],
  ['access log: stdout write', /JS:.*(writeGeneric|Writable\.write)/, /JS:.*pino|writeAccessLine|flushAccessLines/],
  ['access log: formatting', /JS:.*(pino|@pinojs|writeAccessLine)/],
  ['metrics (prom-client)', /JS:.*prom-client/],
  ['observe: report (request log, labels)', /JS:.*report .*observe/],
  ['usage: flush (SQLite)', /JS:.*flush .*inference\/usage|sqliteTransaction|better_sqlite/],
  ['usage: record', /JS:.* record .*inference\/usage|usageRow|countTokens/],
  ['validation (zod)', /JS:.*(validateBody|\/zod\/)/],
  ['request body: read and parse', /JS:.*(http\/body\.js|json-stream)/],
  ['auth', /JS:.*(authenticate|hashSecret|auth\.js)/],
  ['rate limits', /JS:.*(domain\/limits|storage\/limits)/],
  ['response write (socket)', /JS:.*clearBuffer/, /JS:.*(end node:_http_outgoing|writeSse|sse-node)/],
  ['upstream request write (socket)', /JS:.*(clearBuffer|writeH1)/],
  ['answer serialisation (answerBody)', /JS:.*answerBody/],
  ['provider: answer and stream framing', /JS:.*(passthroughComplete|passthrough\.js|sse-parse)/],
  ['undici (upstream exchange)', /JS:.*undici/],
  ['client-gone signal (AbortSignal)', /JS:.*(outgoingSignal|abort_controller|event_target)/],
  ['domain and provider glue', /JS:.*(domain\/inference|providers\/)/],
  ['SSE writer', /JS:.*(sse-node|sse\.js)/],
  ["Node's HTTP server (parse, headers, response)", /JS:.*(_http_server|_http_common|_http_incoming|_http_outgoing)/],
  ['fast path (rest)', /JS:.*fast-path/],
  ['async hooks', /promiseInitHook|promiseBeforeHook|promiseAfterHook|emitInitNative/],
  ['net and streams', /JS:.*(node:net|streams|stream_base)/],
  ['kernel: other system calls (read, epoll)', /do_syscall_64/],
  ['promise jobs, ticks, immediates', /processTicksAndRejections|processImmediate|listOnTimeout|RunMicrotasks/],
]

// names for JIT frames, in every server (/tmp/perf-<pid>.map, removed at the end)
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, '--perf-basic-prof'].filter(Boolean).join(' ')
const g = await startGateway()
try {
  const server = target === 'plinth' ? g.plinth : g.baseline
  const run = (amount: number) =>
    autocannon({ url: `${server.url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: chatBody('bench-model', mode === 'stream'), connections: 50, amount })
  await run(Number(process.env.WARMUP ?? 8000))
  const data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-perf-')), 'perf.data')
  const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(HZ), '-g', '-o', data, '-p', String(server.pid)], { stdio: 'ignore' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const before = cpuMicros(server.pid)
  const result = await run(REQUESTS)
  const cpu = (cpuMicros(server.pid) - before) / result.requests.total
  perf.kill('SIGINT')
  await new Promise((resolve) => perf.on('exit', resolve))
  const script = spawnSync('perf', ['script', '-i', data, '-F', 'tid,ip,sym'], { maxBuffer: 1 << 30, encoding: 'utf8' }).stdout
  fs.rmSync(path.dirname(data), { recursive: true, force: true })
  // PERF_SCRIPT=<file> keeps the samples (tid, frames) for a closer look than the buckets give
  if (process.env.PERF_SCRIPT) fs.writeFileSync(process.env.PERF_SCRIPT, script)
  const samples: { tid: string; frames: string[] }[] = []
  for (const block of script.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim())
    if (!lines.length || !/^\s*\d+\s*$/.test(lines[0])) continue
    samples.push({ tid: lines[0].trim(), frames: lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+ /, '')) })
  }
  const counts = new Map<string, number>()
  for (const s of samples) counts.set(s.tid, (counts.get(s.tid) ?? 0) + 1)
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0]
  const buckets = new Map<string, number>()
  const add = (name: string) => buckets.set(name, (buckets.get(name) ?? 0) + 1)
  for (const { tid, frames } of samples) {
    const stack = frames.join('\n')
    if (tid !== main) add(/Compil/.test(stack) ? 'other threads: JIT compiler' : /Marking|Scaveng|Sweep|Heap|Evacuat/.test(stack) ? 'other threads: garbage collection' : 'other threads: rest')
    else add(BUCKETS.find(([, pattern, also]) => pattern.test(stack) && (!also || also.test(stack)))?.[0] ?? 'main thread: rest (libuv, malloc, native parts of the above)')
  }
  const us = (n: number) => ((n * 1e6) / HZ / result.requests.total).toFixed(1)
  console.log(`${target} ${mode}: ${cpu.toFixed(1)} µs of CPU per request (/proc), ${us(samples.length)} µs sampled; ${result.requests.total} requests at concurrency 50\n`)
  console.log('| bucket | µs per request |\n|---|---|')
  for (const [name, n] of [...buckets].sort((a, b) => b[1] - a[1])) console.log(`| ${name} | ${us(n)} |`)
} finally {
  g.stop()
  fs.rmSync(g.dataDir, { recursive: true, force: true })
  for (const server of [g.upstream, g.baseline, g.plinth]) fs.rmSync(`/tmp/perf-${server.pid}.map`, { force: true })
}
