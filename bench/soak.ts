// npm run bench:soak: 10 minutes of mixed traffic against a real Plinth, started as `npm start`
// runs it (the compiled build, a 1 GiB heap, a fresh data directory): chat and legacy completions,
// streamed and not, tool calls, embeddings, files, batches and assistant runs, through the official
// SDK at a bounded concurrency. Every ~5 s it samples the server's RSS, its event-loop delay (from
// bench/soak-probe.mjs, loaded into the server), the requests and errors. It reports the growth of
// RSS from minute 2 to the end (target: under 10%) and fails on any error.
// Options: --minutes N (SOAK_MINUTES, default 10), --concurrency N (SOAK_CONCURRENCY, default 8),
// --pause-ms N (SOAK_PAUSE_MS, a worker's pause between scenarios), --json FILE (SOAK_JSON: the
// samples), --write-docs (write docs/benchmarks.md's section after a run shorter than 10 minutes;
// a full run always writes it).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import OpenAI from 'openai'
import { writeBenchmarkSection } from './docs-section.js'
import { BENCH_KEY as KEY, startServer, stopAll, type Server } from './gateway-setup.js'
import { cpuMicros, statusKb } from './proc.js'
import { Counted, percentile, Recorder } from './soak-stats.js'
import { suspects, type Stall, type Suspect } from './soak-stalls.js'
import { batches, createAssistants, picker, scenarios } from './soak-traffic.js'

const SECTION = '## Soak (`npm run bench:soak`)'
const PROBE = path.join(import.meta.dirname, 'soak-probe.mjs')
const PROBE_PREFIX = 'plinth-soak-probe '
const FULL_MINUTES = 10
const RSS_TARGET = 0.1

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    concurrency: { type: 'string' },
    'pause-ms': { type: 'string' },
    json: { type: 'string' },
    'write-docs': { type: 'boolean' },
  },
})
const minutes = Number(args.minutes ?? process.env.SOAK_MINUTES ?? FULL_MINUTES)
const concurrency = Number(args.concurrency ?? process.env.SOAK_CONCURRENCY ?? 8)
const pauseMs = Number(args['pause-ms'] ?? process.env.SOAK_PAUSE_MS ?? 20)
const jsonFile = args.json ?? process.env.SOAK_JSON
const SAMPLE_MS = 5000
const BATCH_EVERY_MS = 20_000
const PROBE_EVERY_MS = 250
// bounds on top of the deadline: no loop may run on if something goes wrong
const MAX_SCENARIOS = Math.ceil(minutes * 60 * 1000) // at most one a millisecond
const SCENARIO_TIMEOUT_MS = 60_000
const DRAIN_TIMEOUT_MS = 120_000

type Delay = { p50: number; p99: number; max: number }
type Probe = {
  /** The event-loop delay, as monitorEventLoopDelay measures it. */
  interval: Delay
  total: Delay
  /** The same less the time the main thread waited for a core: the delay the server caused. */
  ownInterval: Delay
  ownTotal: Delay
  heapUsed: number
  external: number
  arrayBuffers: number
  stalls: Stall[]
  gc: { ms: number; max: number }
  reset?: boolean
}
type Sample = {
  minute: number
  rssMb: number
  heapUsedMb: number
  externalMb: number
  httpRequests: number
  operations: number
  errors: number
  rps: number
  loopP50: number
  loopP99: number
  loopMax: number
  ownP99: number
  ownMax: number
  gcMs: number
  gcMax: number
  probeP50: number
  probeP99: number
  controlLoopP99: number
  controlLoopMax: number
  serverCpu: number
  benchCpu: number
  batchesPending: number
}

const mb = (bytes: number) => bytes / 2 ** 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function main() {
  if (!(minutes > 0) || !(concurrency > 0)) throw new Error('--minutes and --concurrency must be positive numbers')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-soak-'))
  let trafficStart = Date.now()
  const rec = new Recorder(() => trafficStart)
  const serverLog = { warnings: 0, errors: 0, first: [] as string[] }
  const probes: Probe[] = []
  const controlProbes: Probe[] = []
  let onProbe: (() => void) | undefined
  const serverOutput = lines((line) => {
    if (line.startsWith(PROBE_PREFIX)) {
      probes.push(JSON.parse(line.slice(PROBE_PREFIX.length)))
      onProbe?.()
      return
    }
    // the server's own log (pino JSON): warnings and errors are reported, errors fail the run
    let level = 0
    try {
      level = JSON.parse(line).level ?? 0
    } catch {
      level = 50 // anything else on stdout (a stack trace) is not expected
    }
    if (level >= 40) serverLog[level >= 50 ? 'errors' : 'warnings']++
    if (level >= 40 && serverLog.first.length < 10) serverLog.first.push(line.slice(0, 500))
  })

  if (!fs.existsSync(path.join(import.meta.dirname, '../dist/cli.js'))) throw new Error('no dist/: build first (npm run bench:soak does)')
  const server: Server = await startServer(
    ['--max-old-space-size=1024', '--import', PROBE, 'bin/plinth.js', 'serve', '--port', '0', '--data-dir', dataDir],
    { PLINTH_BOOTSTRAP_PROJECT_KEY: KEY, PLINTH_LOG_LEVEL: 'info', PLINTH_SOAK_PROBE_MS: String(SAMPLE_MS) },
    serverOutput,
  )
  // the control: an idle Node process with the same probe, whose loop delay is the machine's own
  // (other processes taking the cores), to read the server's against
  await startServer(['--import', PROBE, '-e', "console.log('LISTENING 0'); setInterval(() => {}, 1 << 30)"], { PLINTH_SOAK_PROBE_MS: String(SAMPLE_MS) }, lines((line) => {
    if (line.startsWith(PROBE_PREFIX)) controlProbes.push(JSON.parse(line.slice(PROBE_PREFIX.length)))
  }))
  let serverGone: string | undefined
  let stoppingServer = false
  void server.exited.then((code) => {
    if (!stoppingServer) serverGone ??= `the server exited with ${code} during the run`
  })
  const client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: SCENARIO_TIMEOUT_MS, fetch: rec.countingFetch() })

  const assistants = await createAssistants(client)
  // the warm-up: each scenario once, one at a time (the first requests load the tokenizer); its
  // failures count, its loop delay and latencies are reported apart
  const warmRec = new Recorder(() => trafficStart)
  for (const scenario of scenarios(client, warmRec, assistants, 0)) await scenario.run().catch(() => {})
  const warmProbe = nextProbe(probes, (f) => (onProbe = f), (p) => !!p.reset)
  process.kill(server.pid, 'SIGUSR2')
  await warmProbe
  // every line up to the reset: the start and the warm-up
  const warmLines = probes.slice(0, probes.findIndex((p) => p.reset) + 1)
  const warmUp = { loopMax: Math.max(0, ...warmLines.map((p) => p.interval.max)), ownMax: Math.max(0, ...warmLines.map((p) => p.ownInterval.max)) }
  const list = scenarios(client, rec, assistants, 1)
  const batchTraffic = batches(client, rec, 2)
  const loadStart = os.loadavg()[0]
  trafficStart = Date.now()
  const deadline = trafficStart + minutes * 60_000
  let stopping = false
  const running = () => !stopping && !serverGone && Date.now() < deadline

  // the workers: each runs one scenario at a time, so at most `concurrency` are in flight
  let started = 0
  const ranByName = new Map<string, number>()
  const worker = async (id: number) => {
    const pick = picker(list, 100 + id)
    while (running() && started < MAX_SCENARIOS) {
      started++
      const scenario = pick()
      ranByName.set(scenario.name, (ranByName.get(scenario.name) ?? 0) + 1)
      try {
        await withTimeout(scenario.run(), SCENARIO_TIMEOUT_MS, scenario.name)
      } catch (error) {
        if (!(error instanceof Counted)) {
          try {
            rec.fail(scenario.name, error)
          } catch {}
        }
      }
      if (pauseMs) await sleep(pauseMs)
    }
  }
  // the cheap request, a proxy for how long any request waits behind the others
  const probe = async () => {
    while (running()) {
      const t0 = performance.now()
      try {
        await rec.time('models.list (probe, every 250 ms)', () => client.models.list())
        rec.probeWindow.push(performance.now() - t0)
      } catch {}
      await sleep(PROBE_EVERY_MS)
    }
  }
  const batchLoop = async () => {
    let next = Date.now()
    while (running()) {
      try {
        if (Date.now() >= next) {
          next += BATCH_EVERY_MS
          await withTimeout(batchTraffic.create(), SCENARIO_TIMEOUT_MS, 'batch create')
        }
        await withTimeout(batchTraffic.check(), SCENARIO_TIMEOUT_MS, 'batch check')
      } catch (error) {
        if (!(error instanceof Counted)) {
          try {
            rec.fail('batch', error)
          } catch {}
        }
      }
      await sleep(1000)
    }
  }

  // samples, one per line of the probe in the server
  const samples: Sample[] = []
  let last = { at: trafficStart, http: 0, serverCpu: cpuMicros(server.pid), benchCpu: cpuMicros('self') }
  const sample = () => {
    if (serverGone) return
    const p = probes[probes.length - 1]
    const now = { at: Date.now(), http: rec.httpRequests, serverCpu: cpuMicros(server.pid), benchCpu: cpuMicros('self') }
    const wallUs = (now.at - last.at) * 1000
    const s: Sample = {
      minute: (now.at - trafficStart) / 60_000,
      rssMb: statusKb(server.pid, 'VmRSS') / 1024,
      heapUsedMb: mb(p.heapUsed),
      externalMb: mb(p.external),
      httpRequests: rec.httpRequests,
      operations: rec.operations(),
      errors: rec.errors,
      rps: (now.http - last.http) / ((now.at - last.at) / 1000),
      loopP50: p.interval.p50,
      loopP99: p.interval.p99,
      loopMax: p.interval.max,
      ownP99: p.ownInterval.p99,
      ownMax: p.ownInterval.max,
      gcMs: p.gc.ms,
      gcMax: p.gc.max,
      probeP50: percentile(rec.probeWindow, 50),
      probeP99: percentile(rec.probeWindow, 99),
      controlLoopP99: controlProbes[controlProbes.length - 1]?.interval.p99 ?? NaN,
      controlLoopMax: controlProbes[controlProbes.length - 1]?.interval.max ?? NaN,
      serverCpu: (now.serverCpu - last.serverCpu) / wallUs,
      benchCpu: (now.benchCpu - last.benchCpu) / wallUs,
      batchesPending: batchTraffic.pending(),
    }
    rec.probeWindow = []
    last = now
    samples.push(s)
    console.error(
      `[${s.minute.toFixed(2).padStart(5)} min] ${String(s.httpRequests).padStart(7)} requests (${s.rps.toFixed(0).padStart(4)}/s), ` +
        `${s.errors} errors | RSS ${s.rssMb.toFixed(0)} MB, heap ${s.heapUsedMb.toFixed(0)} MB | ` +
        `loop delay p99/max ${s.loopP99.toFixed(1)}/${s.loopMax.toFixed(1)} ms, own ${s.ownP99.toFixed(1)}/${s.ownMax.toFixed(1)}, GC max ${s.gcMax.toFixed(1)}, ` +
        `idle control ${s.controlLoopP99.toFixed(1)}/${s.controlLoopMax.toFixed(1)} | /v1/models p99 ${s.probeP99.toFixed(1)} ms | ` +
        `CPU server ${(s.serverCpu * 100).toFixed(0)}%, bench ${(s.benchCpu * 100).toFixed(0)}%`,
    )
  }
  // the probe's lines arrive every SAMPLE_MS; the traffic starts with the next one
  onProbe = () => {
    if (!stopping) sample()
  }

  console.error(`soak: ${minutes} min, ${concurrency} workers (pause ${pauseMs} ms), a batch every ${BATCH_EVERY_MS / 1000} s, server pid ${server.pid} at ${server.url}`)
  const loops = [...Array.from({ length: concurrency }, (_, i) => worker(i)), probe(), batchLoop()]
  const watchdog = setInterval(() => {
    const silent = Date.now() - (last.at ?? 0)
    if (silent > 6 * SAMPLE_MS && !stopping) serverGone ??= `no probe line from the server for ${(silent / 1000).toFixed(0)} s`
  }, SAMPLE_MS)
  await sleep(Math.max(0, deadline - Date.now()))
  stopping = true
  const trafficEnd = Date.now()
  const drained = await withTimeout(Promise.all(loops), DRAIN_TIMEOUT_MS, 'the last scenarios').then(
    () => true,
    () => false,
  )
  if (!drained) serverGone ??= 'scenarios still in flight after the drain timeout'
  // the batches still running are left to finish and are checked
  const drainEnd = Date.now() + DRAIN_TIMEOUT_MS
  while (!serverGone && batchTraffic.pending() && Date.now() < drainEnd) {
    try {
      await batchTraffic.check()
    } catch {}
    await sleep(500)
  }
  if (batchTraffic.pending()) {
    try {
      rec.fail('batch', new Error(`${batchTraffic.pending()} batches unfinished ${DRAIN_TIMEOUT_MS / 1000} s after the traffic`))
    } catch {}
  }
  clearInterval(watchdog)
  const finalProbe = serverGone ? probes[probes.length - 1] : await nextProbe(probes, (f) => (onProbe = f))
  const finalControl = controlProbes[controlProbes.length - 1]
  // the stalls of the run (the warm-up's line has reset set, the ones after it are the run's)
  const runProbes = probes.slice(probes.findIndex((p) => p.reset) + 1)
  const runStalls = runProbes
    .flatMap((p) => p.stalls)
    .filter((st) => st.at >= trafficStart && st.at <= trafficEnd)
  // the 500 worst are enough to point at a cause, and keep the matching quick
  const worstStalls = [...runStalls].sort((a, b) => b.ms - a.ms).slice(0, 500)
  const peakMb = serverGone ? 0 : statusKb(server.pid, 'VmHWM') / 1024
  const dataMb = mb(dirBytes(dataDir))
  // a graceful stop, as SIGTERM from a process manager: it must exit 0 in time
  let exitCode: number | null | undefined
  if (!serverGone) {
    stoppingServer = true
    process.kill(server.pid, 'SIGTERM')
    exitCode = await withTimeout(server.exited, 30_000, 'stopping the server').catch(() => undefined)
    if (exitCode !== 0) serverGone = `the server did not stop cleanly on SIGTERM (exit ${exitCode})`
  }
  stopAll('SIGKILL')
  fs.rmSync(dataDir, { recursive: true, force: true })

  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    load: [loadStart, os.loadavg()[0]],
    minutes,
    concurrency,
    pauseMs,
    samples,
    operations: rec.table(),
    statuses: Object.fromEntries(rec.statuses),
    httpRequests: rec.httpRequests,
    errors: rec.errors,
    firstErrors: rec.firstErrors,
    serverLog,
    serverGone,
    loop: finalProbe?.total,
    ownLoop: finalProbe?.ownTotal,
    stalls: {
      over20: runStalls.length,
      over50: runStalls.filter((st) => st.ms > 50).length,
      // the collector took at least half of it
      over50Gc: runStalls.filter((st) => st.ms > 50 && st.gc >= st.ms / 2).length,
      worst: worstStalls.slice(0, 10),
    },
    gc: { ms: runProbes.reduce((a, p) => a + p.gc.ms, 0), max: Math.max(0, ...runProbes.map((p) => p.gc.max)) },
    suspects: suspects(worstStalls, rec.spans, trafficStart, trafficEnd).slice(0, 8),
    controlLoop: finalControl?.total,
    warmUp: { ...warmUp, errors: warmRec.errors, firstErrors: warmRec.firstErrors },
    peakMb,
    dataMb,
    batches: batchTraffic.summary(),
    scenarios: Object.fromEntries(ranByName),
  }
  if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify(result, null, 2) + '\n')
  const text = report(result)
  console.log(text)
  if (minutes >= FULL_MINUTES || args['write-docs']) writeBenchmarkSection(SECTION, text)
  else console.error('(a run shorter than 10 minutes: docs/benchmarks.md left as it is; --write-docs writes it)')

  const failures = [
    warmRec.errors && `${warmRec.errors} failed operations in the warm-up`,
    rec.errors && `${rec.errors} failed operations`,
    rec.serverErrors() && `${rec.serverErrors()} answers with a 5xx status`,
    serverLog.errors && `${serverLog.errors} error lines in the server's log`,
    serverGone,
    minutes >= FULL_MINUTES && growth(samples, minutes).ratio >= RSS_TARGET && 'RSS grew by more than the 10% target',
  ].filter(Boolean)
  if (failures.length) {
    console.error(`\nSOAK FAILED: ${failures.join('; ')}`)
    for (const e of [...warmRec.firstErrors, ...rec.firstErrors]) console.error(`  ${e}`)
    for (const l of serverLog.first) console.error(`  server: ${l}`)
    process.exitCode = 1
  }
}

/** A stdout handler that calls `onLine` with each whole line. */
function lines(onLine: (line: string) => void) {
  let pending = ''
  return (text: string) => {
    pending += text
    let end: number
    while ((end = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, end))
      pending = pending.slice(end + 1)
    }
  }
}

/** The next line of the server's probe (that `wanted` accepts). */
function nextProbe(probes: Probe[], setHandler: (f: () => void) => void, wanted: (p: Probe) => boolean = () => true): Promise<Probe | undefined> {
  return withTimeout(
    new Promise<Probe>((resolve) =>
      setHandler(() => {
        const last = probes[probes.length - 1]
        if (wanted(last)) resolve(last)
      }),
    ),
    3 * SAMPLE_MS,
    'the last probe line',
  ).catch(() => probes[probes.length - 1])
}

function dirBytes(dir: string): number {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size
  }
  return total
}

/**
 * RSS at 20% of the run (minute 2 of 10) and at its end, each the median of the samples in the
 * tenth of the run before it (minute 1-2, minute 9-10): one sample alone moves with the collector.
 */
function rssAt(samples: Sample[], minute: number, window: number): number {
  const inWindow = samples.filter((s) => s.minute > minute - window && s.minute <= minute + 1e-9)
  const chosen = inWindow.length ? inWindow : [samples.reduce((a, b) => (Math.abs(b.minute - minute) < Math.abs(a.minute - minute) ? b : a))]
  return percentile(
    chosen.map((s) => s.rssMb),
    50,
  )
}

function growth(samples: Sample[], minutes: number) {
  if (!samples.length) return { from: 0, to: 0, fromMb: 0, toMb: 0, ratio: 0 }
  const from = minutes * 0.2
  const to = samples[samples.length - 1].minute
  const fromMb = rssAt(samples, from, minutes * 0.1)
  const toMb = rssAt(samples, to, minutes * 0.1)
  return { from, to, fromMb, toMb, ratio: (toMb - fromMb) / fromMb }
}

type Result = {
  date: string
  machine: string
  load: number[]
  minutes: number
  concurrency: number
  pauseMs: number
  samples: Sample[]
  operations: ReturnType<Recorder['table']>
  statuses: Record<number, number>
  httpRequests: number
  errors: number
  firstErrors: string[]
  serverLog: { warnings: number; errors: number; first: string[] }
  serverGone?: string
  loop?: Delay
  ownLoop?: Delay
  stalls: { over20: number; over50: number; over50Gc: number; worst: Stall[] }
  gc: { ms: number; max: number }
  suspects: Suspect[]
  controlLoop?: Delay
  warmUp: { loopMax: number; ownMax: number; errors: number; firstErrors: string[] }
  peakMb: number
  dataMb: number
  batches: { created: number; completed: number; lines: number }
  scenarios: Record<string, number>
}

function report(r: Result): string {
  const f1 = (n: number) => n.toFixed(1)
  const g = growth(r.samples, r.minutes)
  const full = r.minutes >= FULL_MINUTES
  const label = full
    ? `a ${r.minutes}-minute run`
    : `**a ${r.minutes}-minute debug run, not the 10-minute soak**: RSS growth is measured from minute ${f1(g.from)} to ${f1(g.to)}, too short to show a slow leak`
  const byMinute = []
  for (let m = 1; m <= Math.ceil(r.minutes); m++) {
    const inMinute = r.samples.filter((s) => s.minute > m - 1 && s.minute <= m + 1e-9)
    if (!inMinute.length) continue
    const worst = (f: (s: Sample) => number) => f1(Math.max(...inMinute.map(f).filter(Number.isFinite)))
    const median = (f: (s: Sample) => number) => percentile(inMinute.map(f), 50)
    byMinute.push(
      `| ${m} | ${median((s) => s.rssMb).toFixed(0)} | ${median((s) => s.heapUsedMb).toFixed(0)} | ` +
        `${(inMinute.reduce((a, s) => a + s.rps, 0) / inMinute.length).toFixed(0)} | ${worst((s) => s.loopP99)} / ${worst((s) => s.loopMax)} | ` +
        `${worst((s) => s.ownP99)} / ${worst((s) => s.ownMax)} | ${worst((s) => s.controlLoopP99)} / ${worst((s) => s.controlLoopMax)} | ` +
        `${worst((s) => s.probeP99)} | ${(median((s) => s.serverCpu) * 100).toFixed(0)}% | ${inMinute[inMinute.length - 1].errors} |`,
    )
  }
  const statuses = Object.entries(r.statuses)
    .map(([code, n]) => `${n.toLocaleString('en')} × ${code}`)
    .join(', ')
  const lines = [
    SECTION,
    '',
    'What it runs: Plinth built and started as `npm start` starts it (`node --max-old-space-size=1024 bin/plinth.js serve`, ' +
      'the compiled build, on a fresh data directory and SQLite), and, through the official SDK over 127.0.0.1, ' +
      `${r.concurrency} workers each running one scenario at a time, picked at random by weight, with a ${r.pauseMs} ms pause between two: ` +
      'chat completions on `test-echo` (plain and streamed; now and then a prompt of a few thousand tokens), ' +
      "the tool-call round trip on `test-scripted` (plain and streamed; the model's call, the tool's result, the answer), " +
      'legacy completions (plain and streamed), embeddings on `test-embed` (1-16 inputs), files (upload of 1 B to 2 MiB, ' +
      'list, retrieve, download, delete), and assistant runs on `test-scripted` (thread, run polled to completion, one with a ' +
      'tool call answered through `submit_tool_outputs`, one streamed; messages and steps listed; thread deleted). Beside them, ' +
      'a batch of 20-120 lines is created every 20 s (chat, embeddings and legacy completions in turn) and checked and ' +
      'deleted when it ends, and `GET /v1/models` is sent every 250 ms as the cheap request whose latency shows how long ' +
      'any request waits behind the others. Every answer is checked (the echo is the message, the tool call names the ' +
      'tool, a batch answers every line with 200); any failure, 5xx or error line in the server log fails the run (a non-zero exit), and so does, in a run of 10 minutes or more, RSS growth over the target.',
    '',
    "How it samples: every 5 s, the server's RSS (`/proc/<pid>/status` VmRSS), and from inside the server, by " +
      '`bench/soak-probe.mjs` (a bench-only module loaded with `node --import`; Plinth has no endpoint for it), its heap, ' +
      'its garbage collections and its event-loop delay: `monitorEventLoopDelay` at a 5 ms resolution (how late its timer ' +
      "fires), and the same less the time the main thread waited for a core (its `/proc` schedstat): the **own** delay, what " +
      "the server's code, a blocking call or the collector caused, which is what a quiet machine would show. An idle Node " +
      "process with the same probe runs beside it as the control: its delay is the machine's alone. Before the run each " +
      'scenario runs once (the warm-up: the first requests load the tokenizer); its delay is reported apart. For each ' +
      "own stall over 20 ms the report matches the calls in flight: a call in flight during far more of the stalls than " +
      'of the run (its lift) is where to look.',
    '',
    `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${r.machine}, load average ${f1(r.load[0])} at the start and ${f1(r.load[1])} at the end; ` +
      `${label}.`,
    '',
    '| result | value | target |',
    '|---|---:|---|',
    `| RSS at minute ${f1(g.from)} (median of the samples of the tenth of the run before it) | ${g.fromMb.toFixed(0)} MB | |`,
    `| RSS at minute ${f1(g.to)} (the same) | ${g.toMb.toFixed(0)} MB | |`,
    `| **RSS growth, minute ${f1(g.from)} to ${f1(g.to)}** | **${(g.ratio * 100).toFixed(1)}%** | under 10%: ${g.ratio < RSS_TARGET ? 'met' : 'MISSED'}${full ? '' : ' (a short run says little)'} |`,
    `| peak RSS (VmHWM) | ${r.peakMb.toFixed(0)} MB | |`,
    `| event-loop delay over the run, p50 / p99 / max | ${f1(r.loop?.p50 ?? NaN)} / ${f1(r.loop?.p99 ?? NaN)} / ${f1(r.loop?.max ?? NaN)} ms | |`,
    `| the same in the idle control process (other processes holding the cores) | ${f1(r.controlLoop?.p50 ?? NaN)} / ${f1(r.controlLoop?.p99 ?? NaN)} / ${f1(r.controlLoop?.max ?? NaN)} ms | |`,
    `| **the server's own event-loop delay** (less its waits for a core), p50 / p99 / **max** | ${f1(r.ownLoop?.p50 ?? NaN)} / ${f1(r.ownLoop?.p99 ?? NaN)} / **${f1(r.ownLoop?.max ?? NaN)}** ms | no stall over 50 ms: ${(r.ownLoop?.max ?? Infinity) <= 50 ? 'met' : 'MISSED'} |`,
    `| stalls of the server's own, over 20 ms / over 50 ms (of which mostly garbage collection) | ${r.stalls.over20} / ${r.stalls.over50} (${r.stalls.over50Gc}) | 0 over 50 ms |`,
    `| garbage collection: total time (share of the run), longest (wall time: its waits for a core included) | ${(r.gc.ms / 1000).toFixed(1)} s (${((r.gc.ms / (r.minutes * 60_000)) * 100).toFixed(1)}%), ${f1(r.gc.max)} ms | |`,
    `| the worst stalls, own ms (of it GC) | ${r.stalls.worst.slice(0, 5).map((st) => `${f1(st.ms)} (${f1(st.gc)})`).join(', ')} | |`,
    `| event-loop delay max in the start and warm-up (each scenario once, before the run), raw / own | ${f1(r.warmUp.loopMax)} / ${f1(r.warmUp.ownMax)} ms | |`,
    `| HTTP requests | ${r.httpRequests.toLocaleString('en')} (${statuses}) | |`,
    `| **failed operations** | **${r.errors}** (warm-up: ${r.warmUp.errors}) | 0 |`,
    `| server log | ${r.serverLog.errors} errors, ${r.serverLog.warnings} warnings | 0 errors |`,
    `| batches | ${r.batches.completed} of ${r.batches.created} completed, ${r.batches.lines.toLocaleString('en')} lines | all |`,
    `| data directory at the end | ${r.dataMb.toFixed(0)} MB | |`,
    ...(r.serverGone ? [`| **server** | **${r.serverGone}** | |`] : []),
    '',
    '| minute | RSS MB | heap MB | req/s | loop delay p99 / max ms | own p99 / max ms | idle control p99 / max ms | `/v1/models` p99 ms | server CPU | errors so far |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...byMinute,
    '',
    '| operation | count | errors | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.operations.map((o) => `| ${o.op} | ${o.count.toLocaleString('en')} | ${o.errors} | ${f1(o.p50)} | ${f1(o.p99)} | ${f1(o.max)} |`),
    '',
    ...(r.suspects.length
      ? [
          `In flight during the server's own stalls over 20 ms (the ${Math.min(500, r.stalls.over20)} worst), against the share of the run each call was in flight:`,
          '',
          '| call | stalls it overlapped | share of stalls | share of the run in flight | lift |',
          '|---|---:|---:|---:|---:|',
          ...r.suspects.map((x) => `| ${x.op} | ${x.stalls} | ${(x.stallShare * 100).toFixed(0)}% | ${(x.timeShare * 100).toFixed(0)}% | ${x.lift.toFixed(1)}x |`),
          '',
        ]
      : []),
    ...(r.firstErrors.length ? ['First errors:', '', ...r.firstErrors.map((e) => `- ${e}`), ''] : []),
    'Reading it: RSS is compared from minute 2, when the tokenizer, the caches and the heap have reached their working ' +
      'size, to minute 10, each the median of a minute of samples; growth beyond the target means something is kept per ' +
      "request (a leak), which the heap column helps place (V8's heap, or memory outside it: buffers, SQLite, native). On a " +
      'shared machine read the own delay, not the raw one: when the control process shows delays too, other processes ' +
      "held the cores. The `/v1/models` column is a client's view of the same waits. Latencies include the client's own " +
      "time on the same two cores; a run's polled rows include the SDK's poll interval (100 ms). `--minutes N` shortens a " +
      'run (docs/benchmarks.md is then left alone unless `--write-docs`); `--json FILE` writes every sample.',
    '',
  ]
  return lines.join('\n')
}

main().catch((error) => {
  console.error(error)
  stopAll('SIGKILL')
  process.exitCode = 1
})
