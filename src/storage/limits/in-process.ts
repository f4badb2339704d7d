import { adjusted, step, type Step } from './gcra.js'
import type { AcquireResult, Counter, CounterState, RateLimiter } from './limiter.js'

/**
 * Counters in this process's memory: exact for one node, and a few hundred nanoseconds a request.
 * Several nodes each keep their own counts, so together they allow that many times the limit;
 * RedisLimiter shares one count.
 */
export class InProcessLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>()
  private sweepAt = 0

  constructor(private readonly clock: () => number = preciseNow) {}

  acquire(counters: readonly Counter[]): AcquireResult {
    return this.acquireNow(counters)
  }

  /** The same, typed as never a promise (tests and benchmarks). */
  acquireNow(counters: readonly Counter[]): AcquireResult {
    const now = this.clock()
    const steps: Step[] = new Array(counters.length)
    const states: CounterState[] = new Array(counters.length)
    let blocked = -1
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]
      const s = step(this.tats.get(c.key) ?? 0, now, c.limit, c.windowMs, c.cost)
      steps[i] = s
      states[i] = s.state
      if (blocked < 0 && !s.fits) blocked = i
    }
    if (blocked >= 0) return { ok: false, blocked, retryMs: steps[blocked].waitMs, states }
    for (let i = 0; i < counters.length; i++) this.tats.set(counters[i].key, steps[i].next)
    if (now >= this.sweepAt) this.sweep(now)
    return { ok: true, states }
  }

  adjust(counter: Counter): void {
    const now = this.clock()
    this.tats.set(counter.key, adjusted(this.tats.get(counter.key) ?? 0, now, counter.limit, counter.windowMs, counter.cost))
  }

  async close() {
    this.tats.clear()
  }

  /** Forgets counters that are empty again, once a minute: keys of idle projects do not pile up. */
  private sweep(now: number) {
    this.sweepAt = now + 60_000
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key)
  }
}

/** Unix milliseconds with sub-millisecond precision (Date.now() alone rounds bursts together). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}
