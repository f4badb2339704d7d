import fs from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

/**
 * The main thread's scheduler counters (/proc/<pid>/task/<pid>/schedstat, the main thread's tid
 * being the pid): nanoseconds on a CPU and nanoseconds runnable but waiting for one.
 */
function schedstat(): { run: number; wait: number } | undefined {
  try {
    const [run, wait] = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number)
    return { run: run / 1e6, wait: wait / 1e6 }
  } catch {
    return undefined
  }
}

export type Stall = { label: string; wallMs: number; cpuMs: number; runnableWaitMs: number; blockedMs: number; /** monotonic clock at its end, µs (as CPU profiles' timestamps) */ endUs: number }

/**
 * Finds event-loop stalls: a timer ticks every `tickMs`, and a gap between two ticks longer than
 * the threshold is a stall. On a shared machine (CI runs test files in parallel on 2 cores) a
 * gap may only mean the process was not scheduled, so a stall counts as a block only for the
 * part of it the main thread was not waiting for a CPU: `blockedMs` = the gap minus the time it
 * spent runnable in the run queue (schedstat). That keeps CPU work and synchronous I/O on the
 * main thread, which is what a request must not do, and drops descheduling. Where schedstat is
 * missing, the whole gap counts. perf_hooks' histogram is kept for the report.
 */
export class EventLoopMonitor {
  readonly stalls: Stall[] = []
  private readonly histogram = monitorEventLoopDelay({ resolution: 5 })
  private timer: NodeJS.Timeout | undefined
  private label = 'idle'

  constructor(
    private readonly thresholdMs = 50,
    private readonly tickMs = 5,
  ) {}

  start() {
    this.histogram.enable()
    let last = performance.now()
    let lastStat = schedstat()
    this.timer = setInterval(() => {
      const now = performance.now()
      const stat = schedstat()
      const wallMs = now - last
      if (wallMs - this.tickMs > this.thresholdMs) {
        const cpuMs = stat && lastStat ? stat.run - lastStat.run : wallMs
        const runnableWaitMs = stat && lastStat ? stat.wait - lastStat.wait : 0
        const blockedMs = wallMs - this.tickMs - runnableWaitMs
        this.stalls.push({ label: this.label, wallMs, cpuMs, runnableWaitMs, blockedMs, endUs: Number(process.hrtime.bigint() / 1000n) })
      }
      last = now
      lastStat = stat
    }, this.tickMs)
  }

  /** Names the stalls seen from now on (the request being served). */
  phase(label: string) {
    this.label = label
  }

  /** Stalls in which the main thread was really held for more than the threshold. */
  blocks(): Stall[] {
    return this.stalls.filter((s) => s.blockedMs > this.thresholdMs)
  }

  maxDelayMs(): number {
    return this.histogram.max / 1e6
  }

  stop() {
    clearInterval(this.timer)
    this.histogram.disable()
  }
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
