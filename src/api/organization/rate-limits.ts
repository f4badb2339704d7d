import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { ProjectRateLimitListQuery, ProjectRateLimitUpdateRequest } from '../../schemas/rate-limits.js'
import { bodyLimit } from '../shared.js'

export function rateLimitsRoutes(ctx: AppContext): RouteDef[] {
  const { limits } = ctx.services
  return [
    {
      // spec: list-project-rate-limits
      method: 'GET',
      path: '/organization/projects/{project_id}/rate_limits',
      operationId: 'list-project-rate-limits',
      scope: 'admin',
      handler: async (c) =>
        c.json(await limits.list(c.req.param('project_id')!, readQuery(c, ProjectRateLimitListQuery))),
    },
    {
      // spec: update-project-rate-limits
      method: 'POST',
      path: '/organization/projects/{project_id}/rate_limits/{rate_limit_id}',
      operationId: 'update-project-rate-limits',
      scope: 'admin',
      handler: async (c) => {
        const body = await readJson(c, ProjectRateLimitUpdateRequest, bodyLimit(ctx))
        const { project_id, rate_limit_id } = c.req.param() as { project_id: string; rate_limit_id: string }
        return c.json(await limits.modify(c.var.principal, project_id, rate_limit_id, body))
      },
    },
  ]
}
