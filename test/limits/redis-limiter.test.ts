import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Counter } from '../../src/storage/limits/limiter.js'
import { RedisLimiter } from '../../src/storage/limits/redis.js'
import { describeRedis, redisPrefix, redisTestUrl } from '../helpers/redis.js'

// Two RedisLimiter instances, each with its own connection, stand for two nodes sharing one Redis.

describeRedis('RedisLimiter: two nodes on one Redis', () => {
  let a: RedisLimiter
  let b: RedisLimiter
  const prefix = redisPrefix('limiter')

  beforeAll(async () => {
    a = new RedisLimiter({ url: redisTestUrl()!, prefix })
    b = new RedisLimiter({ url: redisTestUrl()!, prefix })
    await Promise.all([a.connect(), b.connect()])
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  const rpm = (key: string, limit: number, cost = 1): Counter => ({ key, limit, windowMs: 60_000, cost })

  it('shares one limit: a concurrent burst on both nodes gets exactly the limit through', async () => {
    const burst = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acquire([rpm('shared', 25)]))
    const results = await Promise.all(burst)
    expect(results.filter((r) => r.ok)).toHaveLength(25)
    const refused = results.find((r) => !r.ok)!
    expect(refused.ok).toBe(false)
    if (refused.ok) return
    expect(refused.blocked).toBe(0)
    // one request's worth of a 25-per-minute counter comes back after 60 s / 25 = 2.4 s
    expect(refused.retryMs).toBeGreaterThan(2000)
    expect(refused.retryMs).toBeLessThanOrEqual(2400)
  })

  it('reports true counts: used before and after, and the time until fully replenished', async () => {
    const first = await a.acquire([rpm('counts', 10)])
    const second = await b.acquire([rpm('counts', 10)])
    expect(first.ok && second.ok).toBe(true)
    expect(first.states[0].usedAfter).toBeCloseTo(1, 2)
    expect(second.states[0].usedBefore).toBeCloseTo(1, 2)
    expect(second.states[0].usedAfter).toBeCloseTo(2, 2)
    // two requests of a 10-per-minute counter take 12 s to replenish
    expect(second.states[0].resetMs).toBeGreaterThan(11_900)
    expect(second.states[0].resetMs).toBeLessThanOrEqual(12_000)
  })

  it('charges all counters or none: a refused token counter leaves the request counter alone', async () => {
    const counters = [rpm('all-or-none:rpm', 100), rpm('all-or-none:tpm', 1000, 800)]
    expect((await a.acquire(counters)).ok).toBe(true)
    const refused = await b.acquire(counters)
    expect(refused.ok).toBe(false)
    if (refused.ok) return
    expect(refused.blocked).toBe(1)
    const after = await a.acquire([rpm('all-or-none:rpm', 100)])
    // the refused request was not counted: this is the second request, not the third. The
    // counter drains continuously (1.7/s at 100 per minute), so allow for time passing.
    expect(after.states[0].usedBefore).toBeGreaterThan(0.5)
    expect(after.states[0].usedBefore).toBeLessThan(1.5)
  })

  it('adjust corrects a charge on the other node: a refund makes room, an overrun takes it', async () => {
    const tpm = (cost: number) => rpm('adjust:tpm', 1000, cost)
    expect((await a.acquire([tpm(900)])).ok).toBe(true)
    expect((await b.acquire([tpm(200)])).ok).toBe(false)
    await a.adjust(tpm(-500))
    const fits = await b.acquire([tpm(200)])
    expect(fits.ok).toBe(true)
    expect(fits.states[0].usedBefore).toBeCloseTo(400, 0)
    await b.adjust(tpm(400))
    expect((await a.acquire([tpm(1)])).ok).toBe(false)
  })

  it('expires counters once they are empty again', async () => {
    const counter: Counter = { key: 'expiry', limit: 1000, windowMs: 200, cost: 1 }
    expect((await a.acquire([counter])).ok).toBe(true)
    await new Promise((r) => setTimeout(r, 1400))
    const fresh = await b.acquire([counter])
    expect(fresh.states[0].usedBefore).toBe(0)
  })
})

it('a Redis that cannot be reached fails the call, fast, instead of queueing it', async () => {
  const down = new RedisLimiter({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 })
  await expect(down.connect()).rejects.toThrow()
  const started = performance.now()
  await expect(down.acquire([{ key: 'x', limit: 1, windowMs: 1000, cost: 1 }])).rejects.toThrow()
  expect(performance.now() - started).toBeLessThan(1000)
  await down.close()
})
