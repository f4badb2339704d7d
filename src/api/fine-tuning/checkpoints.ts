import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  CheckpointPermissionCreateParams,
  CheckpointPermissionListQuery,
} from '../../schemas/fine-tuning.js'
import { bodyLimit } from '../shared.js'

/** Checkpoint permissions: admin keys only, as the spec says ("requires an admin API key"). */
export function fineTuningCheckpointsRoutes(ctx: AppContext): RouteDef[] {
  const { service } = ctx.services.fineTuning
  const model = (c: Parameters<RouteDef['handler']>[0]) => c.req.param('fine_tuned_model_checkpoint')!
  return [
    {
      // spec: listFineTuningCheckpointPermissions
      method: 'GET',
      path: '/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions',
      operationId: 'listFineTuningCheckpointPermissions',
      scope: 'admin',
      handler: async (c) =>
        c.json(await service.permissions(c.var.principal, model(c), readQuery(c, CheckpointPermissionListQuery))),
    },
    {
      // spec: createFineTuningCheckpointPermission
      method: 'POST',
      path: '/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions',
      operationId: 'createFineTuningCheckpointPermission',
      scope: 'admin',
      handler: async (c) => {
        const params = await readJson(c, CheckpointPermissionCreateParams, bodyLimit(ctx))
        return c.json(await service.grant(c.var.principal, model(c), params))
      },
    },
    {
      // spec: deleteFineTuningCheckpointPermission
      method: 'DELETE',
      path: '/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions/{permission_id}',
      operationId: 'deleteFineTuningCheckpointPermission',
      scope: 'admin',
      handler: async (c) =>
        c.json(await service.revoke(c.var.principal, model(c), c.req.param('permission_id')!)),
    },
  ]
}
