import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  ProjectCreateParams,
  ProjectListQuery,
  ProjectUpdateParams,
} from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function projectsRoutes(ctx: AppContext): RouteDef[] {
  const { projects } = ctx.services.admin
  return [
    {
      // spec: list-projects
      method: 'GET',
      path: '/organization/projects',
      operationId: 'list-projects',
      scope: 'admin',
      handler: async (c) =>
        c.json(await projects.list(c.var.principal, readQuery(c, ProjectListQuery))),
    },
    {
      // spec: create-project
      method: 'POST',
      path: '/organization/projects',
      operationId: 'create-project',
      scope: 'admin',
      handler: async (c) => {
        const { name } = await readJson(c, ProjectCreateParams, bodyLimit(ctx))
        return c.json(await projects.create(c.var.principal, name))
      },
    },
    {
      // spec: retrieve-project
      method: 'GET',
      path: '/organization/projects/{project_id}',
      operationId: 'retrieve-project',
      scope: 'admin',
      handler: async (c) => c.json(await projects.get(c.var.principal, c.req.param('project_id')!)),
    },
    {
      // spec: modify-project
      method: 'POST',
      path: '/organization/projects/{project_id}',
      operationId: 'modify-project',
      scope: 'admin',
      handler: async (c) => {
        const { name } = await readJson(c, ProjectUpdateParams, bodyLimit(ctx))
        return c.json(await projects.update(c.var.principal, c.req.param('project_id')!, name))
      },
    },
    {
      // spec: archive-project
      method: 'POST',
      path: '/organization/projects/{project_id}/archive',
      operationId: 'archive-project',
      scope: 'admin',
      handler: async (c) =>
        c.json(await projects.archive(c.var.principal, c.req.param('project_id')!)),
    },
  ]
}
