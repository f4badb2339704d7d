import type { AppContext } from '../context.js'
import { readJson, readQuery } from '../http/body.js'
import { requireAssistantsV1 } from '../http/openai-beta.js'
import type { RouteDef } from '../http/routes.js'
import { AssistantFileCreate, AssistantsListQuery } from '../schemas/assistants.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** v1 only: files of an assistant (its code interpreter files in v2). */
export function assistantFilesRoutes(ctx: AppContext): RouteDef[] {
  const { assistantFiles } = ctx.services.assistants
  return [
    {
      // spec (v1): createAssistantFile
      method: 'POST',
      path: '/assistants/{assistant_id}/files',
      operationId: 'createAssistantFile',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const { file_id } = await readJson(c, AssistantFileCreate, bodyLimit(ctx))
        const id = c.req.param('assistant_id')!
        return c.json(await assistantFiles.create(projectPrincipal(c), id, file_id))
      },
    },
    {
      // spec (v1): listAssistantFiles
      method: 'GET',
      path: '/assistants/{assistant_id}/files',
      operationId: 'listAssistantFiles',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const query = readQuery(c, AssistantsListQuery)
        const id = c.req.param('assistant_id')!
        return c.json(await assistantFiles.list(projectPrincipal(c), id, query))
      },
    },
    {
      // spec (v1): getAssistantFile
      method: 'GET',
      path: '/assistants/{assistant_id}/files/{file_id}',
      operationId: 'getAssistantFile',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const { assistant_id, file_id } = c.req.param()
        return c.json(await assistantFiles.get(projectPrincipal(c), assistant_id, file_id))
      },
    },
    {
      // spec (v1): deleteAssistantFile
      method: 'DELETE',
      path: '/assistants/{assistant_id}/files/{file_id}',
      operationId: 'deleteAssistantFile',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const { assistant_id, file_id } = c.req.param()
        return c.json(await assistantFiles.delete(projectPrincipal(c), assistant_id, file_id))
      },
    },
  ]
}
