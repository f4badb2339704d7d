import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { LimitsService, Reservation } from '../limits/service.js'

/** The project's rate limits, as a run's model calls use them. */
export type EvalLimits = Pick<LimitsService, 'reserve'>

/** A wait is never shorter (a busy loop) nor longer (a cancel is seen at once anyway) than this. */
const MIN_WAIT_MS = 10
const MAX_WAIT_MS = 60_000

/**
 * Runs one model call of a run under the project's rate limits for the model, as a live request
 * is: the request and its estimated tokens are charged first, the true count settles them. A
 * 429 from the limits is waited out and tried again: OpenAI's runs are not failed by the user's
 * own rate limits, they go slower. A request larger than a whole window ("Request too large",
 * `x-should-retry: false`) can never fit and is thrown, erroring its item. `signal` ends a wait.
 */
export async function underLimits<T>(
  limits: EvalLimits | undefined,
  principal: ProjectPrincipal,
  model: string,
  tokens: number,
  signal: AbortSignal,
  call: (hold: Pick<Reservation, 'settle'> | undefined) => Promise<T>,
): Promise<T> {
  if (!limits) return call(undefined)
  let hold: Reservation
  for (;;) {
    signal.throwIfAborted()
    try {
      hold = await limits.reserve(principal, model, { tokens })
      break
    } catch (error) {
      const wait = retryWait(error)
      if (wait === undefined) throw error
      await sleep(wait, undefined, { signal })
    }
  }
  try {
    return await call(hold)
  } catch (error) {
    // nothing was generated (or it was not counted): the tokens go back, as a live request's do
    hold.settle(0)
    throw error
  }
}

/** How long to wait before trying again, for a 429 of the limits that a wait can clear. */
function retryWait(error: unknown): number | undefined {
  if (!(error instanceof ApiError) || error.status !== 429 || error.code !== 'rate_limit_exceeded') return undefined
  if (error.headers['x-should-retry'] === 'false') return undefined
  const ms = Number(error.headers['retry-after-ms'])
  return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, Number.isFinite(ms) ? ms : 1000))
}
