import type { AppContext } from '../../context.js'
import { readJson } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { ModelPermissionsParams } from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

/**
 * A project's model allow or deny list. Not in the spec file Plinth follows, but in OpenAI's
 * API and the official SDK (`client.admin.organization.projects.modelPermissions`), whose shapes
 * these follow.
 */
export function modelPermissionsRoutes(ctx: AppContext): RouteDef[] {
  const { projects } = ctx.services.admin
  const path = '/organization/projects/{project_id}/model_permissions'
  return [
    {
      method: 'GET',
      path,
      operationId: 'retrieve-project-model-permissions',
      scope: 'admin',
      extension: true,
      handler: async (c) =>
        c.json(await projects.modelPermissions(c.var.principal, c.req.param('project_id')!)),
    },
    {
      method: 'POST',
      path,
      operationId: 'update-project-model-permissions',
      scope: 'admin',
      extension: true,
      handler: async (c) => {
        const body = await readJson(c, ModelPermissionsParams, bodyLimit(ctx))
        return c.json(
          await projects.setModelPermissions(c.var.principal, c.req.param('project_id')!, body),
        )
      },
    },
    {
      method: 'DELETE',
      path,
      operationId: 'delete-project-model-permissions',
      scope: 'admin',
      extension: true,
      handler: async (c) => {
        await projects.setModelPermissions(c.var.principal, c.req.param('project_id')!, null)
        return c.json({ object: 'project.model_permissions.deleted', deleted: true })
      },
    },
  ]
}
