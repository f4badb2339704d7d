import type { AppContext } from '../context.js'
import { readJson } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import { EmbeddingCreateParams } from '../schemas/embeddings.js'
import { requestSignal } from '../http/node-request.js'
import { bodyLimit, projectPrincipal } from './shared.js'
import { estimateEmbeddingTokens } from '../domain/limits/estimate.js'
import { rateLimited } from './rate-limited.js'

export function embeddingsRoutes(ctx: AppContext): RouteDef[] {
  return [
    {
      // spec: createEmbedding
      method: 'POST',
      path: '/embeddings',
      operationId: 'createEmbedding',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, EmbeddingCreateParams, bodyLimit(ctx), { legacyUnknownArgument: true })
        return rateLimited(c, ctx, params.model, { tokens: estimateEmbeddingTokens(params) }, async (limit) =>
          c.json(await ctx.services.embeddings.create(projectPrincipal(c), params, { signal: requestSignal(c), limit })),
        )
      },
    },
  ]
}
