import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { OrgListQuery, ServiceAccountCreateParams } from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function serviceAccountsRoutes(ctx: AppContext): RouteDef[] {
  const { serviceAccounts } = ctx.services.admin
  const base = '/organization/projects/{project_id}/service_accounts'
  return [
    {
      // spec: list-project-service-accounts
      method: 'GET',
      path: base,
      operationId: 'list-project-service-accounts',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await serviceAccounts.list(
            c.var.principal,
            c.req.param('project_id')!,
            readQuery(c, OrgListQuery),
          ),
        ),
    },
    {
      // spec: create-project-service-account (the answer holds the key's secret, once)
      method: 'POST',
      path: base,
      operationId: 'create-project-service-account',
      scope: 'admin',
      handler: async (c) => {
        const { name } = await readJson(c, ServiceAccountCreateParams, bodyLimit(ctx))
        return c.json(
          await serviceAccounts.create(c.var.principal, c.req.param('project_id')!, name),
        )
      },
    },
    {
      // spec: retrieve-project-service-account
      method: 'GET',
      path: `${base}/{service_account_id}`,
      operationId: 'retrieve-project-service-account',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await serviceAccounts.get(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('service_account_id')!,
          ),
        ),
    },
    {
      // spec: delete-project-service-account
      method: 'DELETE',
      path: `${base}/{service_account_id}`,
      operationId: 'delete-project-service-account',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await serviceAccounts.delete(
            c.var.principal,
            c.req.param('project_id')!,
            c.req.param('service_account_id')!,
          ),
        ),
    },
  ]
}
