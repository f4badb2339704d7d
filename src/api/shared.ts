import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import type { AppEnv } from '../http/env.js'
import { toApiError } from '../http/render-error.js'
import { asDataEvents, primedSse } from '../http/sse.js'
import type { ProjectPrincipal } from '../principal.js'

export function projectPrincipal(c: Context<AppEnv>): ProjectPrincipal {
  return c.var.principal as ProjectPrincipal
}

/** A chat/completions-style stream: `data:` chunks, `data: [DONE]`, errors as `data: {"error":...}`. */
export function chunkStream(c: Context<AppEnv>, chunks: AsyncIterable<unknown>): Promise<Response> {
  const requestId = c.var.requestId
  return primedSse(c, asDataEvents(chunks), {
    end: 'data-done',
    errorEvent: 'data',
    toApiError: (error) => toApiError(error, requestId),
  })
}

export function bodyLimit(ctx: AppContext): number {
  return ctx.config.server.bodyLimitBytes
}
