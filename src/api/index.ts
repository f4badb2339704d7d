import type { Hono } from 'hono'
import type { AppContext } from '../context.js'
import { notImplemented } from '../errors.js'
import { requireKey } from '../http/auth.js'
import type { AppEnv } from '../http/env.js'
import { routeAccess } from '../http/permissions.js'
import { toHonoPath, type Method, type RouteDef } from '../http/routes.js'
import { assistantFilesRoutes } from './assistant-files.js'
import { audioTranscriptionRoutes } from './audio-transcriptions.js'
import { assistantsRoutes } from './assistants.js'
import { batchesRoutes } from './batches.js'
import { chatCompletionsRoutes } from './chat/completions.js'
import { completionsRoutes } from './completions.js'
import { conversationsRoutes } from './conversations.js'
import { containersRoutes } from './containers.js'
import { embeddingsRoutes } from './embeddings.js'
import { evalsRoutes } from './evals.js'
import { filesRoutes } from './files.js'
import { fineTuningCheckpointsRoutes } from './fine-tuning/checkpoints.js'
import { fineTuningGradersRoutes } from './fine-tuning/graders.js'
import { fineTuningJobsRoutes } from './fine-tuning/jobs.js'
import { imagesRoutes } from './images.js'
import { modelsRoutes } from './models.js'
import { moderationsRoutes } from './moderations.js'
import { NOT_IMPLEMENTED, SDK_NOT_IMPLEMENTED } from './not-implemented.js'
import { realtimeRoutes } from './realtime.js'
import { responsesRoutes } from './responses.js'
import { speechRoutes } from './speech.js'
import { organizationRoutes } from './organization/organization-routes.js'
import { rateLimitsRoutes } from './organization/rate-limits.js'
import { messageFilesRoutes } from './threads/message-files.js'
import { messagesRoutes } from './threads/messages.js'
import { runsRoutes } from './threads/runs.js'
import { threadsRoutes } from './threads/threads.js'
import { usageRoutes } from './organization/usage.js'
import { uploadsRoutes } from './uploads.js'
import { vectorStoreFileBatchesRoutes } from './vector-stores/file-batches.js'
import { vectorStoreFilesRoutes } from './vector-stores/files.js'
import { vectorStoresRoutes } from './vector-stores/vector-stores.js'

/** Every route Plinth serves, one line per resource. The conformance report reads this list. */
export function apiRoutes(ctx: AppContext): RouteDef[] {
  return [
    ...modelsRoutes(ctx),
    ...chatCompletionsRoutes(ctx),
    ...completionsRoutes(ctx),
    ...embeddingsRoutes(ctx),
    ...responsesRoutes(ctx),
    ...conversationsRoutes(ctx),
    ...moderationsRoutes(ctx),
    ...speechRoutes(ctx),
    ...audioTranscriptionRoutes(ctx),
    ...imagesRoutes(ctx),
    ...filesRoutes(ctx),
    ...uploadsRoutes(ctx),
    ...organizationRoutes(ctx),
    ...usageRoutes(ctx),
    ...rateLimitsRoutes(ctx),
    ...batchesRoutes(ctx),
    ...assistantsRoutes(ctx),
    ...assistantFilesRoutes(ctx),
    ...threadsRoutes(ctx),
    ...messagesRoutes(ctx),
    ...messageFilesRoutes(ctx),
    ...runsRoutes(ctx),
    ...vectorStoresRoutes(ctx),
    ...vectorStoreFilesRoutes(ctx),
    ...vectorStoreFileBatchesRoutes(ctx),
    ...fineTuningJobsRoutes(ctx),
    ...fineTuningCheckpointsRoutes(ctx),
    ...fineTuningGradersRoutes(ctx),
    ...evalsRoutes(ctx),
    ...realtimeRoutes(ctx),
    ...containersRoutes(ctx),
  ]
}

/**
 * Operations not built yet, the spec's and those newer than it that the SDK calls: 501
 * `not_implemented` after authentication (admin keys for the organization's own endpoints).
 */
export function notImplementedRoutes(): RouteDef[] {
  const route = (method: Method, path: string, operationId: string, named: string, extension: boolean): RouteDef => ({
    method,
    path,
    operationId,
    ...(extension ? { extension } : {}),
    scope: path.startsWith('/organization') || path.startsWith('/projects') ? 'admin' : 'project',
    handler: () => {
      throw notImplemented(method, `/v1${path}`, named)
    },
  })
  return [
    ...NOT_IMPLEMENTED.map(([method, path, operationId]) => route(method, path, operationId, operationId, false)),
    ...SDK_NOT_IMPLEMENTED.map(([method, path, call]) => route(method, path, call, `client.${call} in the openai SDK`, true)),
  ]
}

export function mountApi(app: Hono<AppEnv>, ctx: AppContext) {
  const authenticate = (secret: string) => ctx.services.keys.authenticate(secret)
  const certificateHeader = ctx.config.server.clientCertificateHeader?.toLowerCase()
  // Hono runs the first matching route registered, so literal segments go before parameters:
  // POST /threads/runs is createThreadAndRun, not modifyThread of a thread called 'runs'
  const params = (route: RouteDef) => route.path.split('{').length
  const routes = [...apiRoutes(ctx), ...notImplementedRoutes()].sort((a, b) => params(a) - params(b))
  for (const route of routes) {
    const path = '/v1' + toHonoPath(route.path)
    if (route.scope === 'public') app.on(route.method, path, route.handler)
    // per route: key permissions depend on the resource and on reading or writing
    else app.on(route.method, path, requireKey(route.scope, authenticate, routeAccess(route), certificateHeader), route.handler)
  }
}
