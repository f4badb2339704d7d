import type { AppContext } from '../context.js'
import { readJson, readQuery } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import { BatchCreateParams, BatchListQuery } from '../schemas/batches.js'
import { bodyLimit, projectPrincipal } from './shared.js'

export function batchesRoutes(ctx: AppContext): RouteDef[] {
  const { batches } = ctx.services
  return [
    {
      // spec: createBatch
      method: 'POST',
      path: '/batches',
      operationId: 'createBatch',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, BatchCreateParams, bodyLimit(ctx))
        const principal = projectPrincipal(c)
        // a batch bills later, line by line: a reached spend limit refuses it at creation
        ctx.services.limits.spend.check(principal)
        return c.json(await batches.create(principal, params))
      },
    },
    {
      // spec: listBatches
      method: 'GET',
      path: '/batches',
      operationId: 'listBatches',
      scope: 'project',
      handler: async (c) =>
        c.json(await batches.list(projectPrincipal(c), readQuery(c, BatchListQuery))),
    },
    {
      // spec: retrieveBatch
      method: 'GET',
      path: '/batches/{batch_id}',
      operationId: 'retrieveBatch',
      scope: 'project',
      handler: async (c) =>
        c.json(await batches.get(projectPrincipal(c), c.req.param('batch_id')!)),
    },
    {
      // spec: cancelBatch
      method: 'POST',
      path: '/batches/{batch_id}/cancel',
      operationId: 'cancelBatch',
      scope: 'project',
      handler: async (c) =>
        c.json(await batches.cancel(projectPrincipal(c), c.req.param('batch_id')!)),
    },
  ]
}
