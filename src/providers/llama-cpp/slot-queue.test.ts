import { describe, expect, it } from 'vitest'
import { SlotQueue } from './slot-queue.js'

const queue = (slots: string[], maxWaiting: number) =>
  new SlotQueue(
    slots,
    maxWaiting,
    (waiting) => new Error(`full (${waiting})`),
    () => new Error('gone'),
  )

describe('SlotQueue', () => {
  it('hands out free slots, picking with the caller’s choice', async () => {
    const q = queue(['a', 'b', 'c'], 0)
    expect(await q.acquire(new AbortController().signal, (free) => free[2])).toBe('c')
    expect(q.idle).toBe(2)
  })

  it('makes requests wait in order, and refuses beyond maxWaiting', async () => {
    const q = queue(['a'], 2)
    const signal = new AbortController().signal
    const first = await q.acquire(signal)
    const second = q.acquire(signal)
    const third = q.acquire(signal)
    await expect(q.acquire(signal)).rejects.toThrow('full (2)')
    q.release(first)
    expect(await second).toBe('a')
    q.release('a')
    expect(await third).toBe('a')
    expect(q.waiting).toBe(0)
  })

  it('lets a waiter whose client went away leave the line', async () => {
    const q = queue(['a'], 5)
    const slot = await q.acquire(new AbortController().signal)
    const controller = new AbortController()
    const waiting = q.acquire(controller.signal)
    controller.abort()
    await expect(waiting).rejects.toThrow('gone')
    expect(q.waiting).toBe(0)
    q.release(slot)
    expect(q.idle).toBe(1)
  })

  it('refuses everyone waiting when the model goes away', async () => {
    const q = queue(['a'], 5)
    await q.acquire(new AbortController().signal)
    const waiting = q.acquire(new AbortController().signal)
    q.rejectAll(new Error('unloaded'))
    await expect(waiting).rejects.toThrow('unloaded')
  })
})
