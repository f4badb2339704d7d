import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import { assistantsVersion } from '../../http/openai-beta.js'
import type { RouteDef } from '../../http/routes.js'
import {
  MessageCreateV1,
  MessageCreateV2,
  MessageListQuery,
  MessageUpdate,
} from '../../schemas/messages.js'
import { readVersioned } from '../assistants-shared.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/** /v1/threads/{thread_id}/messages, both versions of the beta. */
export function messagesRoutes(ctx: AppContext): RouteDef[] {
  const { messages } = ctx.services.assistants
  return [
    {
      // spec: createMessage
      method: 'POST',
      path: '/threads/{thread_id}/messages',
      operationId: 'createMessage',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: MessageCreateV1,
          v2: MessageCreateV2,
        })
        const threadId = c.req.param('thread_id')!
        return c.json(await messages.create(projectPrincipal(c), threadId, input))
      },
    },
    {
      // spec: listMessages
      method: 'GET',
      path: '/threads/{thread_id}/messages',
      operationId: 'listMessages',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const query = readQuery(c, MessageListQuery)
        const threadId = c.req.param('thread_id')!
        return c.json(await messages.list(projectPrincipal(c), threadId, query, version))
      },
    },
    {
      // spec: getMessage
      method: 'GET',
      path: '/threads/{thread_id}/messages/{message_id}',
      operationId: 'getMessage',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const { thread_id, message_id } = c.req.param()
        return c.json(await messages.get(projectPrincipal(c), thread_id, message_id, version))
      },
    },
    {
      // spec: modifyMessage (the same body in both versions: metadata)
      method: 'POST',
      path: '/threads/{thread_id}/messages/{message_id}',
      operationId: 'modifyMessage',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const params = await readJson(c, MessageUpdate, bodyLimit(ctx))
        const { thread_id, message_id } = c.req.param()
        const principal = projectPrincipal(c)
        return c.json(await messages.update(principal, thread_id, message_id, params, version))
      },
    },
    {
      // spec: deleteMessage (v2; served to v1 requests too, on the same storage)
      method: 'DELETE',
      path: '/threads/{thread_id}/messages/{message_id}',
      operationId: 'deleteMessage',
      scope: 'project',
      handler: async (c) => {
        assistantsVersion(c)
        const { thread_id, message_id } = c.req.param()
        return c.json(await messages.delete(projectPrincipal(c), thread_id, message_id))
      },
    },
  ]
}
