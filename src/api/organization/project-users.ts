import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  OrgListQuery,
  ProjectUserCreateParams,
  ProjectUserUpdateParams,
} from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function projectUsersRoutes(ctx: AppContext): RouteDef[] {
  const { projectUsers } = ctx.services.admin
  const base = '/organization/projects/{project_id}/users'
  return [
    {
      // spec: list-project-users
      method: 'GET',
      path: base,
      operationId: 'list-project-users',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectUsers.list(
            c.var.principal,
            c.req.param('project_id')!,
            readQuery(c, OrgListQuery),
          ),
        ),
    },
    {
      // spec: create-project-user
      method: 'POST',
      path: base,
      operationId: 'create-project-user',
      scope: 'admin',
      handler: async (c) => {
        const body = await readJson(c, ProjectUserCreateParams, bodyLimit(ctx))
        return c.json(await projectUsers.add(c.var.principal, c.req.param('project_id')!, body))
      },
    },
    {
      // spec: retrieve-project-user
      method: 'GET',
      path: `${base}/{user_id}`,
      operationId: 'retrieve-project-user',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectUsers.get(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('user_id')!,
          ),
        ),
    },
    {
      // spec: modify-project-user
      method: 'POST',
      path: `${base}/{user_id}`,
      operationId: 'modify-project-user',
      scope: 'admin',
      handler: async (c) => {
        const { role } = await readJson(c, ProjectUserUpdateParams, bodyLimit(ctx))
        return c.json(
          await projectUsers.update(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('user_id')!,
            role,
          ),
        )
      },
    },
    {
      // spec: delete-project-user
      method: 'DELETE',
      path: `${base}/{user_id}`,
      operationId: 'delete-project-user',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await projectUsers.remove(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('user_id')!,
          ),
        ),
    },
  ]
}
