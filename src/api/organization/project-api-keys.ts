import type { AppContext } from '../../context.js'
import { readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { OrgListQuery } from '../../schemas/organization.js'

export function projectApiKeysRoutes(ctx: AppContext): RouteDef[] {
  const { projectKeys } = ctx.services.admin
  const base = '/organization/projects/{project_id}/api_keys'
  return [
    {
      // spec: list-project-api-keys
      method: 'GET',
      path: base,
      operationId: 'list-project-api-keys',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectKeys.list(
            c.var.principal,
            c.req.param('project_id')!,
            readQuery(c, OrgListQuery),
          ),
        ),
    },
    {
      // spec: retrieve-project-api-key
      method: 'GET',
      path: `${base}/{key_id}`,
      operationId: 'retrieve-project-api-key',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectKeys.get(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('key_id')!,
          ),
        ),
    },
    {
      // spec: delete-project-api-key
      method: 'DELETE',
      path: `${base}/{key_id}`,
      operationId: 'delete-project-api-key',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectKeys.delete(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('key_id')!,
          ),
        ),
    },
  ]
}
