import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { SpendAlertListQuery, SpendAlertRequest, SpendLimitUpdateRequest } from '../../schemas/spend.js'
import { bodyLimit } from '../shared.js'

/**
 * Spend limits and alerts (docs/usage-and-limits.md): newer than the spec file, served as SDK 6
 * calls them, for the organization and (with `/projects/{project_id}`) for one project.
 */
export function spendRoutes(ctx: AppContext): RouteDef[] {
  const spend = ctx.services.spend
  const routes: RouteDef[] = []
  for (const [prefix, name] of [
    ['/organization', 'Organization'],
    ['/organization/projects/{project_id}', 'Project'],
  ] as const) {
    const project = (c: { req: { param(name: string): string | undefined } }) => c.req.param('project_id')
    routes.push(
      {
        method: 'GET',
        path: `${prefix}/spend_limit`,
        operationId: `retrieve${name}SpendLimit`,
        scope: 'admin',
        extension: true,
        handler: async (c) => c.json(await spend.getLimit(c.var.principal, project(c))),
      },
      {
        method: 'POST',
        path: `${prefix}/spend_limit`,
        operationId: `update${name}SpendLimit`,
        scope: 'admin',
        extension: true,
        handler: async (c) => {
          const body = await readJson(c, SpendLimitUpdateRequest, bodyLimit(ctx))
          return c.json(await spend.putLimit(c.var.principal, body, project(c)))
        },
      },
      {
        method: 'DELETE',
        path: `${prefix}/spend_limit`,
        operationId: `delete${name}SpendLimit`,
        scope: 'admin',
        extension: true,
        handler: async (c) => c.json(await spend.deleteLimit(c.var.principal, project(c))),
      },
      {
        method: 'GET',
        path: `${prefix}/spend_alerts`,
        operationId: `list${name}SpendAlerts`,
        scope: 'admin',
        extension: true,
        handler: async (c) => c.json(await spend.listAlerts(c.var.principal, readQuery(c, SpendAlertListQuery), project(c))),
      },
      {
        method: 'POST',
        path: `${prefix}/spend_alerts`,
        operationId: `create${name}SpendAlert`,
        scope: 'admin',
        extension: true,
        handler: async (c) => {
          const body = await readJson(c, SpendAlertRequest, bodyLimit(ctx))
          return c.json(await spend.createAlert(c.var.principal, body, project(c)))
        },
      },
      {
        method: 'GET',
        path: `${prefix}/spend_alerts/{alert_id}`,
        operationId: `retrieve${name}SpendAlert`,
        scope: 'admin',
        extension: true,
        handler: async (c) => c.json(await spend.getAlert(c.var.principal, c.req.param('alert_id')!, project(c))),
      },
      {
        method: 'POST',
        path: `${prefix}/spend_alerts/{alert_id}`,
        operationId: `update${name}SpendAlert`,
        scope: 'admin',
        extension: true,
        handler: async (c) => {
          const body = await readJson(c, SpendAlertRequest, bodyLimit(ctx))
          return c.json(await spend.updateAlert(c.var.principal, c.req.param('alert_id')!, body, project(c)))
        },
      },
      {
        method: 'DELETE',
        path: `${prefix}/spend_alerts/{alert_id}`,
        operationId: `delete${name}SpendAlert`,
        scope: 'admin',
        extension: true,
        handler: async (c) => c.json(await spend.deleteAlert(c.var.principal, c.req.param('alert_id')!, project(c))),
      },
    )
  }
  return routes
}
