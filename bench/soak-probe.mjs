// Loaded into the Plinth server by bench/soak.ts (node --import), never by Plinth itself: the
// server's event-loop delay and heap as only the process itself can see them, printed to stdout
// every PLINTH_SOAK_PROBE_MS as one line `plinth-soak-probe {json}`. Plain JavaScript, so the
// measured server runs its compiled build without a TypeScript loader.
import { readFileSync, writeSync } from 'node:fs'
import { createHistogram, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks'

// The histogram records the time between two of its timer's ticks, so an idle loop reads as the
// resolution itself: the delay is that time less the resolution (exact to within the resolution).
const RESOLUTION_MS = 5
const everyMs = Number(process.env.PLINTH_SOAK_PROBE_MS ?? 5000)
// two monitors, as an ELD histogram cannot be added into another: one reset after each line, one
// over the whole run
const interval = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
const total = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
interval.enable()
total.enable()

// On a shared machine much of that delay is other processes holding the cores. The main thread's
// schedstat (Linux) tells how long it waited for a core; the delay less that wait is the delay
// the server caused itself (its own work, or a blocking call), what a quiet machine would show.
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`
const waitedNs = () => Number(readFileSync(SCHEDSTAT, 'latin1').split(' ')[1])
// the worst of them, with their time, for bench/soak.ts to match with the requests in flight
const STALL_MS = 20
let stalls = []
const ownInterval = createHistogram()
const ownTotal = createHistogram()
let last = { at: performance.now(), waited: waitedNs() }
setInterval(() => {
  const now = { at: performance.now(), waited: waitedNs() }
  const delayMs = now.at - last.at - RESOLUTION_MS
  const ownMs = Math.max(0, delayMs - (now.waited - last.waited) / 1e6)
  // a histogram takes integers from 1: nanoseconds, plus one
  const ns = Math.round(ownMs * 1e6) + 1
  ownInterval.record(ns)
  ownTotal.record(ns)
  if (ownMs >= STALL_MS && stalls.length < 50) stalls.push({ at: Date.now(), ms: Math.round(ownMs * 10) / 10, gap: Math.round(now.at - last.at) })
  last = now
}, RESOLUTION_MS).unref()

// garbage collection, to tell a stall of the collector's from one of the server's code
let gcs = []
let gcMs = 0
let gcMax = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration
    gcMax = Math.max(gcMax, entry.duration)
    gcs.push({ start: performance.timeOrigin + entry.startTime, end: performance.timeOrigin + entry.startTime + entry.duration })
  }
}).observe({ entryTypes: ['gc'] })

/** The collector's time within the `gap` before a stall's tick at `at` (Date.now() milliseconds). */
function gcWithin(stall) {
  let total = 0
  for (const gc of gcs) total += Math.max(0, Math.min(gc.end, stall.at) - Math.max(gc.start, stall.at - stall.gap))
  return Math.round(total * 10) / 10
}

const ms = (ns) => Math.max(0, ns / 1e6)
const delay = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
const summary = (h) => ({ p50: delay(h.percentile(50)), p99: delay(h.percentile(99)), max: delay(h.max), ticks: h.count })
const own = (h) => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) })

function report(extra = {}) {
  const memory = process.memoryUsage()
  const line = {
    at: Date.now(),
    interval: summary(interval),
    total: summary(total),
    ownInterval: own(ownInterval),
    ownTotal: own(ownTotal),
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    gc: { ms: Math.round(gcMs), max: Math.round(gcMax * 10) / 10 },
    stalls: stalls.map((stall) => ({ ...stall, gc: gcWithin(stall) })),
    ...extra,
  }
  // the last second's collections stay, for a stall at the turn of two lines
  const keepFrom = Date.now() - 1000
  gcs = gcs.filter((gc) => gc.end >= keepFrom)
  gcMs = 0
  gcMax = 0
  interval.reset()
  ownInterval.reset()
  stalls = []
  // one write of one line, so that it never interleaves with the server's own log lines
  writeSync(1, `plinth-soak-probe ${JSON.stringify(line)}\n`)
}

setInterval(report, everyMs).unref()

// SIGUSR2 (Plinth has no use for it) marks the start of the measured traffic: what came before,
// the start and the warm-up, is reported in one line of its own and left out of the totals
process.on('SIGUSR2', () => {
  report({ reset: true })
  total.reset()
  ownTotal.reset()
})
