import type { AppContext } from '../context.js'
import { readJson, readQuery } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import { ConversationCreateParams, ConversationUpdateParams, ItemCreateParams, ItemIncludeQuery, ItemListQuery } from '../schemas/conversations.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/**
 * The Conversations API (docs/responses.md, "Conversations"): newer than the spec file Plinth
 * follows, so every route is an extension, shaped after SDK 6's types. Project-scoped.
 */
export function conversationsRoutes(ctx: AppContext): RouteDef[] {
  const conversations = ctx.services.responses.store.conversations
  const base = { scope: 'project' as const, extension: true }
  const id = (c: { req: { param(name: string): string | undefined } }) => c.req.param('conversation_id')!
  return [
    {
      ...base,
      method: 'POST',
      path: '/conversations',
      operationId: 'createConversation',
      handler: async (c) => c.json(await conversations.create(projectPrincipal(c), await readJson(c, ConversationCreateParams, bodyLimit(ctx)))),
    },
    {
      ...base,
      method: 'GET',
      path: '/conversations/{conversation_id}',
      operationId: 'getConversation',
      handler: async (c) => c.json(await conversations.get(projectPrincipal(c), id(c))),
    },
    {
      ...base,
      method: 'POST',
      path: '/conversations/{conversation_id}',
      operationId: 'updateConversation',
      handler: async (c) => {
        const params = await readJson(c, ConversationUpdateParams, bodyLimit(ctx))
        return c.json(await conversations.update(projectPrincipal(c), id(c), params.metadata))
      },
    },
    {
      ...base,
      method: 'DELETE',
      path: '/conversations/{conversation_id}',
      operationId: 'deleteConversation',
      handler: async (c) => c.json(await conversations.delete(projectPrincipal(c), id(c))),
    },
    {
      ...base,
      method: 'GET',
      path: '/conversations/{conversation_id}/items',
      operationId: 'listConversationItems',
      handler: async (c) => c.json(await conversations.listItems(projectPrincipal(c), id(c), readQuery(c, ItemListQuery))),
    },
    {
      ...base,
      method: 'POST',
      path: '/conversations/{conversation_id}/items',
      operationId: 'createConversationItems',
      handler: async (c) => {
        const { include } = readQuery(c, ItemIncludeQuery)
        const params = await readJson(c, ItemCreateParams, bodyLimit(ctx))
        return c.json(await conversations.addItems(projectPrincipal(c), id(c), params.items, include))
      },
    },
    {
      ...base,
      method: 'GET',
      path: '/conversations/{conversation_id}/items/{item_id}',
      operationId: 'getConversationItem',
      handler: async (c) => {
        const { include } = readQuery(c, ItemIncludeQuery)
        return c.json(await conversations.item(projectPrincipal(c), id(c), c.req.param('item_id')!, include))
      },
    },
    {
      ...base,
      method: 'DELETE',
      path: '/conversations/{conversation_id}/items/{item_id}',
      operationId: 'deleteConversationItem',
      handler: async (c) => c.json(await conversations.deleteItem(projectPrincipal(c), id(c), c.req.param('item_id')!)),
    },
  ]
}
