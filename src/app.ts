import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { inferenceFastPath } from './api/fast-path.js'
import { mountApi } from './api/index.js'
import { realtimeUpgrade } from './api/realtime-socket.js'
import { mountDashboard } from './web/routes.js'
import type { AppContext } from './context.js'
import { invalidRequest, invalidUrl } from './errors.js'
import { missingHost, onClientError } from './http/client-error.js'
import type { AppEnv } from './http/env.js'
import { errorResponse, onError, onNotFound, sendNodeError, toApiError } from './http/render-error.js'
import { requireKey } from './http/auth.js'
import { nodeBindings } from './http/node-request.js'
import { WebSocketUpgradeOnly } from './http/upgrade.js'
import { observeRequest } from './http/observe.js'
import { registry, scrapeMetrics } from './metrics.js'
import { recordOf, type RequestRecord } from './request-context.js'
import { headerPolicy, newRequestId, responseHeaders, type ResponseHeaderOptions } from './http/response-headers.js'

/** openai-organization's value: the organization's name as a slug, as OpenAI sends it. */
function headerOptions(ctx: AppContext): ResponseHeaderOptions {
  const slug = ctx.organization.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'plinth'
  return { organization: () => slug, corsOrigins: ctx.config.server.corsOrigins }
}

/** The Hono app: debugging headers and CORS on everything, the API under /v1, OpenAI errors. */
export function createApp(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(responseHeaders(headerOptions(ctx)))
  app.use(noteRoute)
  app.get('/health', (c) => c.json({ status: 'ok' }))
  app.get('/ready', async (c) => {
    const readiness = await ctx.readiness()
    return c.json({ status: readiness.ready ? 'ready' : 'unready', checks: readiness.checks }, readiness.ready ? 200 : 503)
  })
  if (ctx.config.metrics.enabled) {
    // Prometheus' text format; an admin key unless the config opens it (docs/operations.md)
    const scrape = async (c: Context<AppEnv>) => c.body(await scrapeMetrics(), 200, { 'content-type': registry.contentType })
    if (ctx.config.metrics.public) app.get('/metrics', scrape)
    else app.get('/metrics', requireKey('admin', (secret) => ctx.services.keys.authenticate(secret)), scrape)
  }
  mountApi(app, ctx)
  mountDashboard(app, ctx)
  app.onError(onError)
  app.notFound(onNotFound)
  return app
}

/**
 * The Node request listener the server runs: the inference fast path (api/fast-path.ts) for the
 * three hot routes, the Hono app for everything else. A request neither can take (no Host, a
 * target that is not a path) gets OpenAI's error body, not the adapter's empty 400.
 */
export function createListener(ctx: AppContext, app = createApp(ctx)): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const policy = headerPolicy(headerOptions(ctx))
  const fast = inferenceFastPath(ctx, policy)
  const standard = (record?: RequestRecord) => policy.standard({ requestId: newRequestId(record), startedAt: performance.now() })
  const hono = getRequestListener(app.fetch, {
    // HTTP/1.0 clients may send no Host (HTTP/1.1 ones are refused below, as RFC 9112 says)
    hostname: 'localhost',
    // what the adapter cannot make a Request of (a Host header that is no host name...)
    errorHandler: (error) => {
      const headers = new Headers(standard())
      const apiError = error instanceof Error && error.name === 'RequestError' ? invalidRequest(`Your request could not be read: ${error.message.toLowerCase()}.`) : toApiError(error, headers.get('x-request-id')!)
      return errorResponse(apiError, headers)
    },
  })
  const serve = (incoming: IncomingMessage, outgoing: ServerResponse, record: RequestRecord) => {
    const refused = refusal(incoming)
    if (refused) {
      const headers = standard(record)
      sendNodeError(outgoing, refused, headers['x-request-id'], headers)
      return
    }
    if (!fast(incoming, outgoing, record)) void hono(incoming, outgoing)
  }
  return (incoming, outgoing) => observeRequest(incoming, outgoing, (record) => serve(incoming, outgoing, record), ctx.requestLog)
}

/** Tells the request's record which route answered it: its template, once routing is done. */
const noteRoute: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next()
  const record = recordOf(nodeBindings(c)?.incoming)
  if (!record || record.route) return
  const path = routePath(c, -1)
  record.route = path === '*' || path === '/*' ? undefined : path
}

function refusal(incoming: IncomingMessage) {
  if (!incoming.headers.host && incoming.httpVersion !== '1.0') return missingHost()
  const url = incoming.url ?? ''
  // `OPTIONS *`, or a backslash in the path: no route has such a path (B1)
  if (!(url.startsWith('/') || /^https?:\/\//i.test(url)) || /^[^?]*\\/.test(url)) return invalidUrl(incoming.method ?? 'GET', url)
  return undefined
}

/**
 * A server that holds its port while Plinth starts: it answers 503 (OpenAI's shape, retryable)
 * until `serveApp` gives it the real listener. Binding first means a busy port is found before
 * anything is created (the first start's organization and keys), not after.
 */
export function createStartingServer(): http.Server {
  const server = http.createServer({ requireHostHeader: false, IncomingMessage: WebSocketUpgradeOnly }, (req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', 'x-should-retry': 'true' })
    res.end(JSON.stringify({ error: { message: 'Plinth is starting; retry in a moment.', type: 'server_error', param: null, code: 'starting' } }))
  })
  server.on('clientError', onClientError)
  return server
}

/** Swaps a starting server's placeholder for the app. */
export function serveApp(server: http.Server, ctx: AppContext, app = createApp(ctx)) {
  server.removeAllListeners('request')
  server.on('request', createListener(ctx, app))
  server.on('upgrade', realtimeUpgrade(ctx))
}

/**
 * The HTTP server Plinth runs (main.ts, and the tests): the listener above, and OpenAI's error
 * body for requests Node's parser refuses before any listener sees them (http/client-error.ts).
 */
export function createServer(ctx: AppContext, app = createApp(ctx)): http.Server {
  // requests without Host reach the listener, which answers them in OpenAI's shape
  const server = http.createServer({ requireHostHeader: false, IncomingMessage: WebSocketUpgradeOnly }, createListener(ctx, app))
  server.on('clientError', onClientError)
  // WebSocket upgrades: the Realtime API's socket (GET /v1/realtime), every other path refused
  server.on('upgrade', realtimeUpgrade(ctx))
  return server
}
