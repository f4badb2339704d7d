import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { InProcessLimiter } from './in-process.js'
import { IpcLimiter, serveLimiter, type IpcChannel } from './ipc.js'
import type { Counter } from './limiter.js'

/** Two ends of a channel; messages go through JSON and arrive in a later turn, as over IPC. */
function channelPair(): [IpcChannel & EventEmitter, IpcChannel & EventEmitter] {
  const ends = [new EventEmitter(), new EventEmitter()] as (IpcChannel & EventEmitter)[]
  ends.forEach((end, i) => {
    end.send = (message: unknown, callback?: (error: Error | null) => void) => {
      const copy = JSON.parse(JSON.stringify(message))
      setImmediate(() => {
        ends[1 - i].emit('message', copy)
        callback?.(null)
      })
      return true
    }
  })
  return [ends[0], ends[1]]
}

const rpm = (key: string, limit: number, cost = 1): Counter => ({ key, limit, windowMs: 60_000, cost })

describe('IpcLimiter', () => {
  it('shares one count between workers through the primary', async () => {
    const shared = new InProcessLimiter()
    const workers = [channelPair(), channelPair()].map(([worker, primary]) => {
      serveLimiter(shared, primary)
      return new IpcLimiter(worker)
    })
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => workers[i % 2].acquire([rpm('k', 10)])))
    expect(results.filter((r) => r.ok)).toHaveLength(10)
    const refused = results.find((r) => !r.ok)!
    expect(refused).toMatchObject({ ok: false, blocked: 0 })
    if (!refused.ok) expect(refused.retryMs).toBeGreaterThan(5000)
    // a give-back from one worker is seen by the other
    workers[0].adjust(rpm('k', 10, -1))
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect((await workers[1].acquire([rpm('k', 10)])).ok).toBe(true)
    for (const w of workers) await w.close()
  })

  it('fails a call the primary does not answer in time, and every call on close', async () => {
    const [worker] = channelPair()
    const limiter = new IpcLimiter(worker, 40)
    await expect(limiter.acquire([rpm('x', 1)])).rejects.toThrow(/did not answer within 40 ms/)
    const pending = limiter.acquire([rpm('x', 1)])
    await limiter.close()
    await expect(pending).rejects.toThrow(/closed/)
  })
})
