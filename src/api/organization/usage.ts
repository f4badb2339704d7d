import type { AppContext } from '../../context.js'
import type { UsageKind } from '../../domain/usage/results.js'
import { readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  CostsQuery,
  UsageByModelQuery,
  UsageByProjectQuery,
  UsageCompletionsQuery,
  UsageImagesQuery,
} from '../../schemas/usage.js'

/** The eight usage endpoints, each with its spec operationId and its own query parameters. */
const ENDPOINTS: [kind: UsageKind, operationId: string, query: typeof UsageByModelQuery | typeof UsageCompletionsQuery | typeof UsageImagesQuery | typeof UsageByProjectQuery][] = [
  ['completions', 'usage-completions', UsageCompletionsQuery],
  ['embeddings', 'usage-embeddings', UsageByModelQuery],
  ['moderations', 'usage-moderations', UsageByModelQuery],
  ['images', 'usage-images', UsageImagesQuery],
  ['audio_speeches', 'usage-audio-speeches', UsageByModelQuery],
  ['audio_transcriptions', 'usage-audio-transcriptions', UsageByModelQuery],
  ['vector_stores', 'usage-vector-stores', UsageByProjectQuery],
  ['code_interpreter_sessions', 'usage-code-interpreter-sessions', UsageByProjectQuery],
]

export function usageRoutes(ctx: AppContext): RouteDef[] {
  const { usageReports } = ctx.services
  return [
    ...ENDPOINTS.map(
      ([kind, operationId, query]): RouteDef => ({
        // spec: usage-<kind>
        method: 'GET',
        path: `/organization/usage/${kind}`,
        operationId,
        scope: 'admin',
        handler: async (c) => c.json(await usageReports.usage(kind, readQuery(c, query))),
      }),
    ),
    {
      // spec: usage-costs
      method: 'GET',
      path: '/organization/costs',
      operationId: 'usage-costs',
      scope: 'admin',
      handler: async (c) => c.json(await usageReports.costs(readQuery(c, CostsQuery))),
    },
  ]
}
