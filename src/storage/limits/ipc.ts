import type { AcquireResult, Counter, RateLimiter } from './limiter.js'

/**
 * One end of a process channel: a cluster worker's `process`, or the primary's `Worker` for it.
 * Messages are JSON (Node's default IPC serialization).
 */
export type IpcChannel = {
  send(message: unknown, callback?: (error: Error | null) => void): unknown
  on(event: 'message', listener: (message: any) => void): unknown
  off(event: 'message', listener: (message: any) => void): unknown
}

type LimiterRequest =
  | { plinthLimiter: 'acquire'; id: number; counters: readonly Counter[] }
  | { plinthLimiter: 'adjust'; counter: Counter }
type LimiterReply = { plinthLimiter: 'result'; id: number; result: AcquireResult }

type Pending = { resolve(result: AcquireResult): void; reject(error: Error): void; sentAt: number }

/** How long a call waits for the primary before it fails (LimitsService decides what that means). */
const TIMEOUT_MS = 1000

/**
 * Counters held by the primary process of `plinth serve --workers N`, asked over the worker's
 * IPC channel: the workers of one machine share one exact count without Redis. Each acquire is one
 * message each way (tens of µs); with Redis configured, RedisLimiter is used instead.
 */
export class IpcLimiter implements RateLimiter {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly timer: NodeJS.Timeout
  private readonly onMessage = (message: LimiterReply) => {
    if (message?.plinthLimiter !== 'result') return
    const call = this.pending.get(message.id)
    if (!call) return
    this.pending.delete(message.id)
    call.resolve(message.result)
  }

  constructor(private readonly channel: IpcChannel, private readonly timeoutMs = TIMEOUT_MS) {
    channel.on('message', this.onMessage)
    // one timer for every call rather than one per call: calls are answered in order, so the
    // oldest pending one is the first to time out
    this.timer = setInterval(() => this.expire(), Math.max(10, Math.floor(timeoutMs / 4)))
    this.timer.unref()
  }

  acquire(counters: readonly Counter[]): Promise<AcquireResult> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sentAt: Date.now() })
      this.channel.send({ plinthLimiter: 'acquire', id, counters } satisfies LimiterRequest, (error) => {
        if (!error) return
        this.pending.delete(id)
        reject(error)
      })
    })
  }

  adjust(counter: Counter): void {
    this.channel.send({ plinthLimiter: 'adjust', counter } satisfies LimiterRequest, ignore)
  }

  async close() {
    clearInterval(this.timer)
    this.channel.off('message', this.onMessage)
    for (const call of this.pending.values()) call.reject(new Error('the rate limiter is closed'))
    this.pending.clear()
  }

  private expire() {
    const deadline = Date.now() - this.timeoutMs
    for (const [id, call] of this.pending) {
      if (call.sentAt > deadline) break
      this.pending.delete(id)
      call.reject(new Error(`the primary process did not answer within ${this.timeoutMs} ms`))
    }
  }
}

/** The limiter the primary runs (an InProcessLimiter): the part of it the workers call. */
export type SharedLimiter = {
  acquire(counters: readonly Counter[]): AcquireResult | Promise<AcquireResult>
  adjust(counter: Counter): void | Promise<void>
}

/** Answers one worker's IpcLimiter from `limiter`; returns a function that stops answering. */
export function serveLimiter(limiter: SharedLimiter, channel: IpcChannel): () => void {
  const onMessage = async (message: LimiterRequest) => {
    switch (message?.plinthLimiter) {
      case 'acquire': {
        const result = await limiter.acquire(message.counters)
        channel.send({ plinthLimiter: 'result', id: message.id, result } satisfies LimiterReply, ignore)
        return
      }
      case 'adjust':
        await limiter.adjust(message.counter)
    }
  }
  channel.on('message', onMessage)
  return () => channel.off('message', onMessage)
}

/** A worker that died while an answer was on its way: nothing to do, it is being restarted. */
function ignore() {}
