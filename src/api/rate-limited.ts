import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import type { Demand, Reservation } from '../domain/limits/service.js'
import type { AppEnv } from '../http/env.js'

/**
 * Runs an inference handler under the project's rate limits for the model: charges the request
 * and its estimated tokens first (OpenAI's 429 when they do not fit), puts the x-ratelimit-*
 * headers on the response (streamed ones too), and gives the tokens back if the request fails
 * before it recorded its usage. On success the domain replaces the estimate with the true count
 * (`reservation.settle`) when it records usage.
 */
export async function rateLimited(
  c: Context<AppEnv>,
  ctx: AppContext,
  model: string,
  demand: Demand,
  run: (reservation: Reservation) => Promise<Response>,
): Promise<Response> {
  const reservation = await ctx.services.limits.reserve(c.var.principal, model, demand)
  if (reservation.headers) c.set('rateLimitHeaders', reservation.headers)
  try {
    return await run(reservation)
  } catch (error) {
    reservation.settle(0)
    throw error
  }
}
