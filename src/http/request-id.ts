import { randomBytes } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.js'

export const OPENAI_VERSION = '2020-10-01'

/**
 * OpenAI's debugging headers on every response, errors included: x-request-id (req_ + 32 hex),
 * openai-organization, openai-processing-ms (time until the response headers), openai-version.
 */
export function debugHeaders(organization: () => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const startedAt = performance.now()
    const requestId = 'req_' + randomBytes(16).toString('hex')
    c.set('requestId', requestId)
    c.set('startedAt', startedAt)
    await next()
    const headers = c.res.headers
    headers.set('x-request-id', requestId)
    headers.set('openai-organization', organization())
    headers.set('openai-version', OPENAI_VERSION)
    headers.set('openai-processing-ms', String(Math.round(performance.now() - startedAt)))
    const principal = c.var.principal
    if (principal?.projectId) headers.set('openai-project', principal.projectId)
  }
}
