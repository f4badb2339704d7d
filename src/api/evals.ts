import type { AppContext } from '../context.js'
import { readJson, readQuery } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import {
  EvalCreateParams,
  EvalListQuery,
  EvalRunCreateParams,
  EvalRunListQuery,
  EvalUpdateParams,
  OutputItemListQuery,
} from '../schemas/evals.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** The Evals API: evals, runs and output items (docs/evals.md). */
export function evalsRoutes(ctx: AppContext): RouteDef[] {
  const { evals } = ctx.services
  const base = { scope: 'project' as const }
  return [
    {
      // spec: createEval (201, as the spec says)
      ...base,
      method: 'POST',
      path: '/evals',
      operationId: 'createEval',
      handler: async (c) => c.json(await evals.create(projectPrincipal(c), await readJson(c, EvalCreateParams, bodyLimit(ctx))), 201),
    },
    {
      // spec: listEvals
      ...base,
      method: 'GET',
      path: '/evals',
      operationId: 'listEvals',
      handler: async (c) => c.json(await evals.list(projectPrincipal(c), readQuery(c, EvalListQuery))),
    },
    {
      // spec: getEval
      ...base,
      method: 'GET',
      path: '/evals/{eval_id}',
      operationId: 'getEval',
      handler: async (c) => c.json(await evals.get(projectPrincipal(c), c.req.param('eval_id')!)),
    },
    {
      // spec: updateEval
      ...base,
      method: 'POST',
      path: '/evals/{eval_id}',
      operationId: 'updateEval',
      handler: async (c) => {
        const params = await readJson(c, EvalUpdateParams, bodyLimit(ctx))
        return c.json(await evals.update(projectPrincipal(c), c.req.param('eval_id')!, params))
      },
    },
    {
      // spec: deleteEval
      ...base,
      method: 'DELETE',
      path: '/evals/{eval_id}',
      operationId: 'deleteEval',
      handler: async (c) => c.json(await evals.delete(projectPrincipal(c), c.req.param('eval_id')!)),
    },
    {
      // spec: createEvalRun (201, as the spec says)
      ...base,
      method: 'POST',
      path: '/evals/{eval_id}/runs',
      operationId: 'createEvalRun',
      handler: async (c) => {
        const params = await readJson(c, EvalRunCreateParams, bodyLimit(ctx))
        return c.json(await evals.createRun(projectPrincipal(c), c.req.param('eval_id')!, params), 201)
      },
    },
    {
      // spec: getEvalRuns
      ...base,
      method: 'GET',
      path: '/evals/{eval_id}/runs',
      operationId: 'getEvalRuns',
      handler: async (c) =>
        c.json(await evals.listRuns(projectPrincipal(c), c.req.param('eval_id')!, readQuery(c, EvalRunListQuery))),
    },
    {
      // spec: getEvalRun
      ...base,
      method: 'GET',
      path: '/evals/{eval_id}/runs/{run_id}',
      operationId: 'getEvalRun',
      handler: async (c) => c.json(await evals.getRun(projectPrincipal(c), c.req.param('eval_id')!, c.req.param('run_id')!)),
    },
    {
      // spec: cancelEvalRun
      ...base,
      method: 'POST',
      path: '/evals/{eval_id}/runs/{run_id}',
      operationId: 'cancelEvalRun',
      handler: async (c) => c.json(await evals.cancelRun(projectPrincipal(c), c.req.param('eval_id')!, c.req.param('run_id')!)),
    },
    {
      // spec: deleteEvalRun
      ...base,
      method: 'DELETE',
      path: '/evals/{eval_id}/runs/{run_id}',
      operationId: 'deleteEvalRun',
      handler: async (c) => c.json(await evals.deleteRun(projectPrincipal(c), c.req.param('eval_id')!, c.req.param('run_id')!)),
    },
    {
      // spec: getEvalRunOutputItems
      ...base,
      method: 'GET',
      path: '/evals/{eval_id}/runs/{run_id}/output_items',
      operationId: 'getEvalRunOutputItems',
      handler: async (c) =>
        c.json(
          await evals.listOutputItems(
            projectPrincipal(c),
            c.req.param('eval_id')!,
            c.req.param('run_id')!,
            readQuery(c, OutputItemListQuery),
          ),
        ),
    },
    {
      // spec: getEvalRunOutputItem
      ...base,
      method: 'GET',
      path: '/evals/{eval_id}/runs/{run_id}/output_items/{output_item_id}',
      operationId: 'getEvalRunOutputItem',
      handler: async (c) =>
        c.json(
          await evals.getOutputItem(
            projectPrincipal(c),
            c.req.param('eval_id')!,
            c.req.param('run_id')!,
            c.req.param('output_item_id')!,
          ),
        ),
    },
  ]
}
