import type { AppContext } from '../context.js'
import { estimateEmbeddingTokens } from '../domain/limits/estimate.js'
import type { RouteDef } from '../http/routes.js'
import { EmbeddingCreateParams } from '../schemas/embeddings.js'
import { inferenceRoute, inferenceRouteDef, type InferenceRoute } from './inference.js'

/** createEmbedding: served by Hono and by the Node fast path (api/inference.ts). */
export function embeddingInference(ctx: AppContext): InferenceRoute {
  return inferenceRoute({
    path: '/embeddings',
    operationId: 'createEmbedding',
    schema: EmbeddingCreateParams,
    demand: (params) => ({ tokens: estimateEmbeddingTokens(params) }),
    run: async (principal, params, options) => ({ json: await ctx.services.embeddings.create(principal, params, options) }),
  })
}

export function embeddingsRoutes(ctx: AppContext): RouteDef[] {
  return [inferenceRouteDef(ctx, embeddingInference(ctx))]
}
