import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { UserListQuery, UserRoleUpdateParams } from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function usersRoutes(ctx: AppContext): RouteDef[] {
  const { users } = ctx.services.admin
  return [
    {
      // spec: list-users
      method: 'GET',
      path: '/organization/users',
      operationId: 'list-users',
      scope: 'admin',
      handler: async (c) => c.json(await users.list(c.var.principal, readQuery(c, UserListQuery))),
    },
    {
      // spec: retrieve-user
      method: 'GET',
      path: '/organization/users/{user_id}',
      operationId: 'retrieve-user',
      scope: 'admin',
      handler: async (c) => c.json(await users.get(c.var.principal, c.req.param('user_id')!)),
    },
    {
      // spec: modify-user
      method: 'POST',
      path: '/organization/users/{user_id}',
      operationId: 'modify-user',
      scope: 'admin',
      handler: async (c) => {
        const { role } = await readJson(c, UserRoleUpdateParams, bodyLimit(ctx))
        return c.json(await users.update(c.var.principal, c.req.param('user_id')!, role))
      },
    },
    {
      // spec: delete-user
      method: 'DELETE',
      path: '/organization/users/{user_id}',
      operationId: 'delete-user',
      scope: 'admin',
      handler: async (c) => c.json(await users.delete(c.var.principal, c.req.param('user_id')!)),
    },
  ]
}
