import type { IncomingMessage, ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { inferenceFastPath } from './api/fast-path.js'
import { mountApi } from './api/index.js'
import { mountDashboard } from './web/routes.js'
import type { AppContext } from './context.js'
import type { AppEnv } from './http/env.js'
import { onError, onNotFound } from './http/render-error.js'
import { headerPolicy, responseHeaders, type ResponseHeaderOptions } from './http/response-headers.js'

/** openai-organization's value: the organization's name as a slug, as OpenAI sends it. */
function headerOptions(ctx: AppContext): ResponseHeaderOptions {
  const slug = ctx.organization.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'plinth'
  return { organization: () => slug, corsOrigins: ctx.config.server.corsOrigins }
}

/** The Hono app: debugging headers and CORS on everything, the API under /v1, OpenAI errors. */
export function createApp(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(responseHeaders(headerOptions(ctx)))
  app.get('/health', (c) => c.json({ status: 'ok' }))
  mountApi(app, ctx)
  mountDashboard(app, ctx)
  app.onError(onError)
  app.notFound(onNotFound)
  return app
}

/**
 * The Node request listener the server runs: the inference fast path (api/fast-path.ts) for the
 * three hot routes, the Hono app for everything else.
 */
export function createListener(ctx: AppContext, app = createApp(ctx)): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const fast = inferenceFastPath(ctx, headerPolicy(headerOptions(ctx)))
  const hono = getRequestListener(app.fetch)
  return (incoming, outgoing) => {
    if (!fast(incoming, outgoing)) void hono(incoming, outgoing)
  }
}
