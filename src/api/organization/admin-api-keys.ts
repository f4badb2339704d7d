import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { AdminKeyCreateParams, AdminKeyListQuery } from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function adminApiKeysRoutes(ctx: AppContext): RouteDef[] {
  const { adminKeys } = ctx.services.admin
  return [
    {
      // spec: admin-api-keys-list
      method: 'GET',
      path: '/organization/admin_api_keys',
      operationId: 'admin-api-keys-list',
      scope: 'admin',
      handler: async (c) =>
        c.json(await adminKeys.list(c.var.principal, readQuery(c, AdminKeyListQuery))),
    },
    {
      // spec: admin-api-keys-create (the answer holds the secret, once)
      method: 'POST',
      path: '/organization/admin_api_keys',
      operationId: 'admin-api-keys-create',
      scope: 'admin',
      handler: async (c) => {
        const { name } = await readJson(c, AdminKeyCreateParams, bodyLimit(ctx))
        return c.json(await adminKeys.create(c.var.principal, name))
      },
    },
    {
      // spec: admin-api-keys-get
      method: 'GET',
      path: '/organization/admin_api_keys/{key_id}',
      operationId: 'admin-api-keys-get',
      scope: 'admin',
      handler: async (c) => c.json(await adminKeys.get(c.var.principal, c.req.param('key_id')!)),
    },
    {
      // spec: admin-api-keys-delete
      method: 'DELETE',
      path: '/organization/admin_api_keys/{key_id}',
      operationId: 'admin-api-keys-delete',
      scope: 'admin',
      handler: async (c) => c.json(await adminKeys.delete(c.var.principal, c.req.param('key_id')!)),
    },
  ]
}
