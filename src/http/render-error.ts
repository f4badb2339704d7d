import type { ServerResponse } from 'node:http'
import type { Context } from 'hono'
import { ApiError, internal, invalidUrl, ProviderError, serviceUnavailable, StoreUnavailableError, upstreamFailed } from '../errors.js'
import { apiLog } from '../logger.js'
import type { AppEnv } from './env.js'
import { tracing } from '../tracing/tracing.js'

/** Any thrown value → the ApiError the client sees. Unknown errors are logged, never shown. */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof ProviderError) return upstreamFailed(error)
  if (error instanceof StoreUnavailableError) return serviceUnavailable(error.store, requestId, error.cause)
  apiLog.error({ err: error, requestId }, 'unhandled error')
  return internal(requestId, error)
}

/** OpenAI pretty-prints error bodies with a two-space indent (errors.md section 1). */
export function errorResponse(error: ApiError, extraHeaders?: Headers): Response {
  const headers = new Headers(extraHeaders)
  headers.set('content-type', 'application/json; charset=utf-8')
  for (const [k, v] of Object.entries(error.headers)) headers.set(k, v)
  return new Response(JSON.stringify(error.toBody(), null, 2), { status: error.status, headers })
}

export function onError(error: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId') ?? 'unknown'
  return errorResponse(loggedApiError(error, requestId), c.res?.headers)
}

/** toApiError, with the 5xx answers logged (the client sees only the request id). */
function loggedApiError(error: unknown, requestId: string): ApiError {
  const apiError = toApiError(error, requestId)
  if (tracing) tracing.error(apiError)
  // a store outage is logged by the store, once per outage, not once per refused request
  if (apiError.status >= 500 && !(error instanceof StoreUnavailableError)) apiLog.warn({ requestId, status: apiError.status, err: apiError.cause ?? apiError.message }, 'request failed')
  return apiError
}

/** The error answer on a Node response (the inference fast path): same status, headers and body as errorResponse. */
export function sendNodeError(outgoing: ServerResponse, error: unknown, requestId: string, headers: Record<string, string>) {
  const apiError = loggedApiError(error, requestId)
  // a stream under way has its own error event; here the answer had not started
  if (outgoing.headersSent) {
    outgoing.destroy()
    return
  }
  outgoing.writeHead(apiError.status, { ...headers, 'content-type': 'application/json; charset=utf-8', ...apiError.headers })
  outgoing.end(JSON.stringify(apiError.toBody(), null, 2))
}

export function onNotFound(c: Context<AppEnv>): Response {
  const url = new URL(c.req.url)
  return errorResponse(invalidUrl(c.req.method, url.pathname), c.res?.headers)
}
