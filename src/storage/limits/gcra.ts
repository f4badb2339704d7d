import type { CounterState } from './limiter.js'

/**
 * GCRA arithmetic shared by both limiters. A counter is one number, its theoretical arrival time
 * (tat): the instant at which it would be empty again. Each unit pushes it `windowMs / limit`
 * later; a charge fits when the new tat is at most one window ahead of now. Time runs
 * continuously, so capacity comes back smoothly instead of all at once at a window edge.
 */

/** How far ahead of `now` a new tat may be: float error must not refuse an exact fit. */
const SLACK_MS = 1e-6

export type Step = {
  /** the tat to store when the charge is made */
  next: number
  fits: boolean
  /** ms to wait until it would fit (0 when it fits) */
  waitMs: number
  state: CounterState
}

export function step(tat: number, now: number, limit: number, windowMs: number, cost: number): Step {
  const interval = windowMs / limit
  const base = tat > now ? tat : now
  const next = base + cost * interval
  const fits = next - now <= windowMs + SLACK_MS
  const usedBefore = (base - now) / interval
  return {
    next,
    fits,
    waitMs: fits ? 0 : next - now - windowMs,
    state: fits
      ? { usedBefore, usedAfter: usedBefore + cost, resetMs: next - now }
      : { usedBefore, usedAfter: usedBefore, resetMs: base - now },
  }
}

/** The tat after adding `delta` units (negative gives back; never below now: an empty counter). */
export function adjusted(tat: number, now: number, limit: number, windowMs: number, delta: number): number {
  const base = tat > now ? tat : now
  const next = base + (delta * windowMs) / limit
  return next > now ? next : now
}
