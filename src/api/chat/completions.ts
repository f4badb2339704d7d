import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { ListQuery } from '../../schemas/shared.js'
import { ChatCompletionCreateParams, ChatCompletionListQuery, ChatCompletionUpdateParams } from '../../schemas/chat.js'
import { requestSignal } from '../../http/node-request.js'
import { bodyLimit, chunkStream, projectPrincipal } from '../shared.js'
import { estimateChatTokens } from '../../domain/limits/estimate.js'
import { rateLimited } from '../rate-limited.js'

export function chatCompletionsRoutes(ctx: AppContext): RouteDef[] {
  const { chat, storedCompletions } = ctx.services
  return [
    {
      // spec: createChatCompletion
      method: 'POST',
      path: '/chat/completions',
      operationId: 'createChatCompletion',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, ChatCompletionCreateParams, bodyLimit(ctx), { legacyUnknownArgument: true })
        return rateLimited(c, ctx, params.model, { tokens: estimateChatTokens(params) }, async (limit) => {
          const options = { signal: requestSignal(c), requestId: c.var.requestId, limit }
          if (params.stream) return chunkStream(c, chat.chunks(projectPrincipal(c), params, options))
          return c.json(await chat.create(projectPrincipal(c), params, options))
        })
      },
    },
    {
      // spec: listChatCompletions
      method: 'GET',
      path: '/chat/completions',
      operationId: 'listChatCompletions',
      scope: 'project',
      handler: async (c) => c.json(await storedCompletions.list(projectPrincipal(c), readQuery(c, ChatCompletionListQuery))),
    },
    {
      // spec: getChatCompletion
      method: 'GET',
      path: '/chat/completions/{completion_id}',
      operationId: 'getChatCompletion',
      scope: 'project',
      handler: async (c) => c.json(await storedCompletions.get(projectPrincipal(c), c.req.param('completion_id')!)),
    },
    {
      // spec: updateChatCompletion
      method: 'POST',
      path: '/chat/completions/{completion_id}',
      operationId: 'updateChatCompletion',
      scope: 'project',
      handler: async (c) => {
        const body = await readJson(c, ChatCompletionUpdateParams, bodyLimit(ctx))
        return c.json(await storedCompletions.update(projectPrincipal(c), c.req.param('completion_id')!, body.metadata))
      },
    },
    {
      // spec: deleteChatCompletion
      method: 'DELETE',
      path: '/chat/completions/{completion_id}',
      operationId: 'deleteChatCompletion',
      scope: 'project',
      handler: async (c) => c.json(await storedCompletions.delete(projectPrincipal(c), c.req.param('completion_id')!)),
    },
    {
      // spec: getChatCompletionMessages
      method: 'GET',
      path: '/chat/completions/{completion_id}/messages',
      operationId: 'getChatCompletionMessages',
      scope: 'project',
      handler: async (c) =>
        c.json(await storedCompletions.messages(projectPrincipal(c), c.req.param('completion_id')!, readQuery(c, ListQuery.extend({ order: ListQuery.shape.order.unwrap().default('asc') })))),
    },
  ]
}
