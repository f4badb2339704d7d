import { recordOf, type RequestRecord } from '../request-context.js'
import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.js'
import { nodeBindings, requestHeader } from './node-request.js'

export const OPENAI_VERSION = '2020-10-01'

const EXPOSED = 'x-request-id, openai-processing-ms, openai-version, openai-organization, openai-project, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, retry-after'

export type ResponseHeaderOptions = {
  /** openai-organization's value: the organization's slug, as OpenAI sends it. */
  organization: () => string
  /** Allowed CORS origins; '*' for any. */
  corsOrigins: readonly string[]
}

/** What a response's standard headers are made of. */
export type HeaderFacts = {
  requestId: string
  startedAt: number
  projectId?: string | null
  rateLimitHeaders?: Record<string, string>
  origin?: string
}

/**
 * Every response's headers: OpenAI's debugging headers (x-request-id = req_ + 32 hex,
 * openai-organization, openai-processing-ms = time until the response headers, openai-version)
 * and CORS, so browser apps can call Plinth directly. One plain object, shared by the Hono
 * middleware below and the Node fast path of the inference routes (api/fast-path.ts).
 */
export function headerPolicy(options: ResponseHeaderOptions) {
  const anyOrigin = options.corsOrigins.includes('*')
  const allowOrigin = (origin: string | undefined) =>
    anyOrigin ? '*' : origin && options.corsOrigins.includes(origin) ? origin : undefined
  return {
    anyOrigin,
    allowOrigin,
    standard(facts: HeaderFacts): Record<string, string> {
      const out: Record<string, string> = {
        'x-request-id': facts.requestId,
        'openai-organization': options.organization(),
        'openai-version': OPENAI_VERSION,
        'openai-processing-ms': String(Math.round(performance.now() - facts.startedAt)),
      }
      if (facts.projectId) out['openai-project'] = facts.projectId
      const limits = facts.rateLimitHeaders
      if (limits) for (const name in limits) out[name] = limits[name]
      const allowed = allowOrigin(facts.origin)
      if (allowed) {
        out['access-control-allow-origin'] = allowed
        out['access-control-expose-headers'] = EXPOSED
        if (!anyOrigin) out.vary = 'Origin'
      }
      return out
    },
  }
}

/** req_ + 32 hex. randomUUID draws on a batched entropy cache: about 5x cheaper per call than randomBytes(16). */
/** A request's id (x-request-id), noted in its record (when there is one) for the access log. */
export function newRequestId(record?: RequestRecord): string {
  const id = 'req_' + randomUUID().replace(/-/g, '')
  if (record && !record.requestId) record.requestId = id
  return id
}

/**
 * The Hono middleware: standard headers (headerPolicy) on every response, and CORS preflights.
 *
 * @NOTE Headers go on the final response only, after `next()`. Touching `c.res` earlier (as
 * hono/cors does) makes Hono rebuild the handler's response as a stream-bodied web Response,
 * which took the Node adapter off its fast path and cost a third of a proxied request's CPU.
 */
export function responseHeaders(options: ResponseHeaderOptions): MiddlewareHandler<AppEnv> {
  const policy = headerPolicy(options)
  return async (c, next) => {
    const startedAt = performance.now()
    const requestId = newRequestId(recordOf(nodeBindings(c)?.incoming))
    c.set('requestId', requestId)
    c.set('startedAt', startedAt)
    const origin = requestHeader(c, 'origin')
    if (c.req.method === 'OPTIONS' && requestHeader(c, 'access-control-request-method')) {
      const allowed = policy.allowOrigin(origin)
      const headers: Record<string, string> = { 'x-request-id': requestId, 'openai-version': OPENAI_VERSION }
      if (allowed) {
        headers['access-control-allow-origin'] = allowed
        headers['access-control-allow-methods'] = 'GET, POST, DELETE, OPTIONS'
        headers['access-control-allow-headers'] = requestHeader(c, 'access-control-request-headers') ?? '*'
        headers['access-control-max-age'] = '600'
        if (!policy.anyOrigin) headers.vary = 'Origin'
      }
      return c.body(null, 204, headers)
    }
    const standard = () =>
      policy.standard({ requestId, startedAt, projectId: c.var.principal?.projectId, rateLimitHeaders: c.var.rateLimitHeaders, origin })
    c.set('standardHeaders', standard)
    await next()
    const headers = c.res.headers
    for (const [name, value] of Object.entries(standard())) {
      if (name === 'vary') headers.append(name, value)
      else headers.set(name, value)
    }
  }
}
