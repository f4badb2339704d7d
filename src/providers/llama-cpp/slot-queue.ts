type Waiter<T> = {
  resolve(slot: T): void
  reject(error: unknown): void
  pick?: (free: T[]) => T
  signal: AbortSignal
  onAbort(): void
}

/**
 * A fixed set of slots (a model's context sequences) shared by requests: a request takes a free
 * slot or waits in line, first come first served. At most `maxWaiting` requests wait; the next
 * one is refused at once (`full()`), so a flood becomes fast 429s rather than a pile of hung
 * connections. A waiter whose client goes away leaves the line at once.
 */
export class SlotQueue<T> {
  private readonly free: T[]
  private readonly total: number
  private readonly waiters: Waiter<T>[] = []

  constructor(
    slots: T[],
    private readonly maxWaiting: number,
    private readonly full: (waiting: number) => Error,
    private readonly gone: () => Error = () => new Error('the client went away'),
  ) {
    this.free = [...slots]
    this.total = slots.length
  }

  get waiting(): number {
    return this.waiters.length
  }

  get idle(): number {
    return this.free.length
  }

  /** Slots taken right now. */
  get busy(): number {
    return this.total - this.free.length
  }

  /** `pick` chooses among free slots (e.g. the one whose cache shares the longest prefix). */
  acquire(signal: AbortSignal, pick?: (free: T[]) => T): Promise<T> {
    if (signal.aborted) return Promise.reject(this.gone())
    if (this.free.length) return Promise.resolve(this.take(pick))
    if (this.waiters.length >= this.maxWaiting)
      return Promise.reject(this.full(this.waiters.length))
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        pick,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter)
          if (at >= 0) this.waiters.splice(at, 1)
          reject(this.gone())
        },
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  release(slot: T) {
    const next = this.waiters.shift()
    if (next) {
      next.signal.removeEventListener('abort', next.onAbort)
      next.resolve(slot)
      return
    }
    this.free.push(slot)
  }

  /** Refuses everyone still waiting (the model is going away). */
  rejectAll(error: Error) {
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal.removeEventListener('abort', waiter.onAbort)
      waiter.reject(error)
    }
  }

  private take(pick?: (free: T[]) => T): T {
    const slot = pick && this.free.length > 1 ? pick(this.free) : this.free[0]
    this.free.splice(this.free.indexOf(slot), 1)
    return slot
  }
}
