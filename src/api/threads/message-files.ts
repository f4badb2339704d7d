import type { AppContext } from '../../context.js'
import { readQuery } from '../../http/body.js'
import { requireAssistantsV1 } from '../../http/openai-beta.js'
import type { RouteDef } from '../../http/routes.js'
import { AssistantsListQuery } from '../../schemas/assistants.js'
import { projectPrincipal } from '../shared.js'

/** v1 only: files of a message (its attachments in v2). */
export function messageFilesRoutes(ctx: AppContext): RouteDef[] {
  const { messageFiles } = ctx.services.assistants
  return [
    {
      // spec (v1): listMessageFiles
      method: 'GET',
      path: '/threads/{thread_id}/messages/{message_id}/files',
      operationId: 'listMessageFiles',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const query = readQuery(c, AssistantsListQuery)
        const { thread_id, message_id } = c.req.param()
        return c.json(await messageFiles.list(projectPrincipal(c), thread_id, message_id, query))
      },
    },
    {
      // spec (v1): getMessageFile
      method: 'GET',
      path: '/threads/{thread_id}/messages/{message_id}/files/{file_id}',
      operationId: 'getMessageFile',
      scope: 'project',
      handler: async (c) => {
        requireAssistantsV1(c)
        const { thread_id, message_id, file_id } = c.req.param()
        const principal = projectPrincipal(c)
        return c.json(await messageFiles.get(principal, thread_id, message_id, file_id))
      },
    },
  ]
}
