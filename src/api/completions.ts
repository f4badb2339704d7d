import type { AppContext } from '../context.js'
import { readJson } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import { CompletionCreateParams } from '../schemas/completions.js'
import { requestSignal } from '../http/node-request.js'
import { bodyLimit, chunkStream, projectPrincipal } from './shared.js'
import { estimateCompletionTokens } from '../domain/limits/estimate.js'
import { rateLimited } from './rate-limited.js'

export function completionsRoutes(ctx: AppContext): RouteDef[] {
  const { completions } = ctx.services
  return [
    {
      // spec: createCompletion
      method: 'POST',
      path: '/completions',
      operationId: 'createCompletion',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, CompletionCreateParams, bodyLimit(ctx), { legacyUnknownArgument: true })
        return rateLimited(c, ctx, params.model, { tokens: estimateCompletionTokens(params) }, async (limit) => {
          const options = { signal: requestSignal(c), limit }
          if (params.stream) return chunkStream(c, completions.chunks(projectPrincipal(c), params, options))
          return c.json(await completions.create(projectPrincipal(c), params, options))
        })
      },
    },
  ]
}
