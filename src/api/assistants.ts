import type { AppContext } from '../context.js'
import { readQuery } from '../http/body.js'
import { assistantsVersion } from '../http/openai-beta.js'
import type { RouteDef } from '../http/routes.js'
import {
  AssistantCreateV1,
  AssistantCreateV2,
  AssistantsListQuery,
  AssistantUpdateV1,
  AssistantUpdateV2,
} from '../schemas/assistants.js'
import { readVersioned } from './assistants-shared.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** /v1/assistants in both versions of the beta (OpenAI-Beta: assistants=v1 | v2). */
export function assistantsRoutes(ctx: AppContext): RouteDef[] {
  const { assistants } = ctx.services.assistants
  return [
    {
      // spec: createAssistant
      method: 'POST',
      path: '/assistants',
      operationId: 'createAssistant',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: AssistantCreateV1,
          v2: AssistantCreateV2,
        })
        return c.json(await assistants.create(projectPrincipal(c), input))
      },
    },
    {
      // spec: listAssistants
      method: 'GET',
      path: '/assistants',
      operationId: 'listAssistants',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const query = readQuery(c, AssistantsListQuery)
        return c.json(await assistants.list(projectPrincipal(c), query, version))
      },
    },
    {
      // spec: getAssistant
      method: 'GET',
      path: '/assistants/{assistant_id}',
      operationId: 'getAssistant',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const id = c.req.param('assistant_id')!
        return c.json(await assistants.get(projectPrincipal(c), id, version))
      },
    },
    {
      // spec: modifyAssistant
      method: 'POST',
      path: '/assistants/{assistant_id}',
      operationId: 'modifyAssistant',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: AssistantUpdateV1,
          v2: AssistantUpdateV2,
        })
        const id = c.req.param('assistant_id')!
        return c.json(await assistants.update(projectPrincipal(c), id, input))
      },
    },
    {
      // spec: deleteAssistant
      method: 'DELETE',
      path: '/assistants/{assistant_id}',
      operationId: 'deleteAssistant',
      scope: 'project',
      handler: async (c) => {
        assistantsVersion(c)
        const id = c.req.param('assistant_id')!
        return c.json(await assistants.delete(projectPrincipal(c), id))
      },
    },
  ]
}
