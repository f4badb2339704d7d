/**
 * One counter of a rate limit: at most `limit` units per `windowMs`, replenished continuously
 * (GCRA, a token bucket stored as one timestamp). A request usually checks several counters at
 * once (requests per minute, tokens per minute, requests per day).
 */
export type Counter = {
  /** unique per project, model and dimension */
  key: string
  limit: number
  windowMs: number
  /** units this request takes */
  cost: number
}

/** A counter as it stands after an acquire (or as it stood, for a refused one). */
export type CounterState = {
  /** units in use before this request */
  usedBefore: number
  /** units in use after it (= usedBefore when refused) */
  usedAfter: number
  /** ms until the counter is fully replenished */
  resetMs: number
}

export type AcquireResult =
  | { ok: true; states: CounterState[] }
  /** `blocked` is the index of the first counter that had no room; `retryMs` when it will. */
  | { ok: false; blocked: number; retryMs: number; states: CounterState[] }

/**
 * Where rate limit counters live. Charges are all-or-nothing: a request that one counter refuses
 * takes nothing from the others. InProcessLimiter counts for one node; RedisLimiter shares the
 * counts between nodes.
 */
export interface RateLimiter {
  /** A result at once when the counters are at hand (in process), a promise when they are remote. */
  acquire(counters: readonly Counter[]): AcquireResult | Promise<AcquireResult>
  /** Charges `cost` units more (or gives back, when negative) after the fact: token corrections. */
  adjust(counter: Counter): void | Promise<void>
  close(): Promise<void>
  /** Checks a remote store answers (readiness); absent for the in-process limiter. */
  ping?(): Promise<void>
}
