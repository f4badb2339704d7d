import type { AppContext } from '../../context.js'
import { readJson } from '../../http/body.js'
import { requestSignal } from '../../http/node-request.js'
import type { RouteDef } from '../../http/routes.js'
import { GraderRunParams, GraderValidateParams } from '../../schemas/graders.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/** SDK 6's fineTuning.alpha.graders (no operation of the spec file): domain/fine-tuning/graders.ts. */
export function fineTuningGradersRoutes(ctx: AppContext): RouteDef[] {
  const { graders } = ctx.services
  return [
    {
      method: 'POST',
      path: '/fine_tuning/alpha/graders/run',
      operationId: 'runGrader',
      scope: 'project',
      extension: true,
      handler: async (c) => {
        const params = await readJson(c, GraderRunParams, bodyLimit(ctx))
        return c.json(await graders.run(projectPrincipal(c), params, requestSignal(c)))
      },
    },
    {
      method: 'POST',
      path: '/fine_tuning/alpha/graders/validate',
      operationId: 'validateGrader',
      scope: 'project',
      extension: true,
      handler: async (c) => {
        const params = await readJson(c, GraderValidateParams, bodyLimit(ctx))
        return c.json(graders.validate(projectPrincipal(c), params))
      },
    },
  ]
}
