import type { Principal } from '../principal.js'

/** Hono variables every request carries. */
export type AppEnv = {
  Variables: {
    requestId: string
    principal: Principal
    startedAt: number
  }
}
