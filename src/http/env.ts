import type { Principal } from '../principal.js'

/** Hono variables every request carries. */
export type AppEnv = {
  Variables: {
    requestId: string
    principal: Principal
    startedAt: number
    /** The debugging and CORS headers as of now (for responses written straight to the socket). */
    standardHeaders: () => Record<string, string>
    /** x-ratelimit-* values of this request, set once the rate limits charged it (inference). */
    rateLimitHeaders?: Record<string, string>
  }
}
