import { describe, expect, it } from 'vitest'
import { atBatchEnd, batchEnd, busy, enterRequest, leaveRequest } from './io-batch.js'

describe('writes held to the end of the I/O batch', () => {
  it('counts requests: busy only with another request beside the caller', () => {
    expect(busy()).toBe(false)
    enterRequest()
    expect(busy()).toBe(false)
    enterRequest()
    expect(busy()).toBe(true)
    leaveRequest()
    expect(busy()).toBe(false)
    leaveRequest()
  })

  it('runs held callbacks together, in order, after ticks and promise jobs (setImmediate)', async () => {
    const order: string[] = []
    atBatchEnd(() => order.push('first held'))
    process.nextTick(() => order.push('tick'))
    void Promise.resolve().then(() => order.push('promise job'))
    atBatchEnd(() => order.push('second held'))
    const ended = batchEnd().then(() => order.push('batchEnd'))
    setImmediate(() => order.push('immediate after'))
    await ended
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual(['promise job', 'tick', 'first held', 'second held', 'batchEnd', 'immediate after'])
  })

  it('holds what is added while a batch runs for the next one', async () => {
    const order: string[] = []
    atBatchEnd(() => {
      order.push('a')
      atBatchEnd(() => order.push('c'))
    })
    atBatchEnd(() => order.push('b'))
    await batchEnd()
    expect(order).toEqual(['a', 'b'])
    await batchEnd()
    expect(order).toEqual(['a', 'b', 'c'])
  })
})
