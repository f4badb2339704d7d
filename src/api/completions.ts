import type { AppContext } from '../context.js'
import { estimateCompletionTokens } from '../domain/limits/estimate.js'
import type { RouteDef } from '../http/routes.js'
import { CompletionCreateParams } from '../schemas/completions.js'
import { inferenceRoute, inferenceRouteDef, type InferenceRoute } from './inference.js'

/** createCompletion (legacy): served by Hono and by the Node fast path (api/inference.ts). */
export function completionInference(ctx: AppContext): InferenceRoute {
  const { completions } = ctx.services
  return inferenceRoute({
    path: '/completions',
    operationId: 'createCompletion',
    schema: CompletionCreateParams,
    demand: (params) => ({ tokens: estimateCompletionTokens(params) }),
    run: async (principal, params, options) =>
      params.stream ? { chunks: completions.chunks(principal, params, options) } : { json: await completions.create(principal, params, options) },
  })
}

export function completionsRoutes(ctx: AppContext): RouteDef[] {
  return [inferenceRouteDef(ctx, completionInference(ctx))]
}
