import { Hono } from 'hono'
import { mountApi } from './api/index.js'
import { mountDashboard } from './web/routes.js'
import type { AppContext } from './context.js'
import type { AppEnv } from './http/env.js'
import { onError, onNotFound } from './http/render-error.js'
import { responseHeaders } from './http/response-headers.js'

/** The Hono app: debugging headers and CORS on everything, the API under /v1, OpenAI errors. */
export function createApp(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const slug = ctx.organization.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'plinth'
  app.use(responseHeaders({ organization: () => slug, corsOrigins: ctx.config.server.corsOrigins }))
  app.get('/health', (c) => c.json({ status: 'ok' }))
  mountApi(app, ctx)
  mountDashboard(app, ctx)
  app.onError(onError)
  app.notFound(onNotFound)
  return app
}
