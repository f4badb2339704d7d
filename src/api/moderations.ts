import type { AppContext } from '../context.js'
import { estimateModerationTokens } from '../domain/inference/moderations.js'
import type { RouteDef } from '../http/routes.js'
import { ModerationCreateParams } from '../schemas/moderations.js'
import { inferenceRoute, inferenceRouteDef, type InferenceRoute } from './inference.js'

/** createModeration: served by Hono and by the Node fast path (api/inference.ts). */
export function moderationInference(ctx: AppContext): InferenceRoute {
  return inferenceRoute({
    path: '/moderations',
    operationId: 'createModeration',
    schema: ModerationCreateParams,
    demand: (params) => ({ tokens: estimateModerationTokens(params) }),
    run: async (principal, params, options) => ({ json: await ctx.services.moderations.create(principal, params, options) }),
  })
}

export function moderationsRoutes(ctx: AppContext): RouteDef[] {
  return [inferenceRouteDef(ctx, moderationInference(ctx))]
}
