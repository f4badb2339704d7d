import { describe, expect, it } from 'vitest'
import { InProcessLimiter } from './in-process.js'
import type { Counter } from './limiter.js'

describe('InProcessLimiter (GCRA)', () => {
  let now = 1_000_000
  const limiter = new InProcessLimiter(() => now)
  const rpm = (key: string, limit: number, cost = 1): Counter => ({ key, limit, windowMs: 60_000, cost })

  it('lets a full window through at once, then one per interval', () => {
    for (let i = 0; i < 6; i++) expect(limiter.acquireNow([rpm('burst', 6)]).ok).toBe(true)
    const refused = limiter.acquireNow([rpm('burst', 6)])
    expect(refused).toMatchObject({ ok: false, blocked: 0, retryMs: 10_000 })
    now += 9_999
    expect(limiter.acquireNow([rpm('burst', 6)]).ok).toBe(false)
    now += 1
    expect(limiter.acquireNow([rpm('burst', 6)]).ok).toBe(true)
  })

  it('reports used counts and the time until full replenishment', () => {
    const first = limiter.acquireNow([rpm('state', 10)])
    expect(first.states[0]).toEqual({ usedBefore: 0, usedAfter: 1, resetMs: 6000 })
    now += 3000
    const second = limiter.acquireNow([rpm('state', 10)])
    expect(second.states[0]).toEqual({ usedBefore: 0.5, usedAfter: 1.5, resetMs: 9000 })
  })

  it('charges every counter or none', () => {
    const counters = [rpm('aon:r', 100), rpm('aon:t', 1000, 600)]
    expect(limiter.acquireNow(counters).ok).toBe(true)
    expect(limiter.acquireNow(counters)).toMatchObject({ ok: false, blocked: 1 })
    expect(limiter.acquireNow([rpm('aon:r', 100)]).states[0].usedBefore).toBe(1)
  })

  it('adjust gives back or charges more after the fact, never below empty', async () => {
    expect(limiter.acquireNow([rpm('adj', 1000, 900)]).ok).toBe(true)
    await limiter.adjust(rpm('adj', 1000, -600))
    expect(limiter.acquireNow([rpm('adj', 1000, 0)]).states[0].usedBefore).toBeCloseTo(300)
    await limiter.adjust(rpm('adj', 1000, -5000))
    expect(limiter.acquireNow([rpm('adj', 1000, 0)]).states[0].usedBefore).toBe(0)
    await limiter.adjust(rpm('adj', 1000, 1500))
    const over = limiter.acquireNow([rpm('adj', 1000, 1)])
    expect(over.ok).toBe(false)
    // 1500 units charged to a 1000-per-minute counter: 30 s until one more fits
    if (!over.ok) expect(over.retryMs).toBeCloseTo(30_060, 0)
  })
})
