import type { AppContext } from '../context.js'
import type { RouteDef } from '../http/routes.js'

export function modelsRoutes(ctx: AppContext): RouteDef[] {
  const models = ctx.services.models
  return [
    // spec: listModels
    { method: 'GET', path: '/models', operationId: 'listModels', scope: 'project', handler: (c) => c.json(models.list(c.var.principal)) },
    // spec: retrieveModel
    { method: 'GET', path: '/models/{model}', operationId: 'retrieveModel', scope: 'project', handler: (c) => c.json(models.get(c.var.principal, c.req.param('model')!)) },
    // spec: deleteModel
    { method: 'DELETE', path: '/models/{model}', operationId: 'deleteModel', scope: 'project', handler: async (c) => c.json(await models.delete(c.var.principal, c.req.param('model')!)) },
  ]
}
