import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { ListQuery } from '../../schemas/shared.js'
import { ChatCompletionCreateParams, ChatCompletionListQuery, ChatCompletionUpdateParams } from '../../schemas/chat.js'
import { bodyLimit, projectPrincipal } from '../shared.js'
import { estimateChatTokens } from '../../domain/limits/estimate.js'
import { inferenceRoute, inferenceRouteDef, type InferenceRoute } from '../inference.js'

/** createChatCompletion: served by Hono and by the Node fast path (api/inference.ts). */
export function chatCompletionInference(ctx: AppContext): InferenceRoute {
  const { chat } = ctx.services
  return inferenceRoute({
    path: '/chat/completions',
    operationId: 'createChatCompletion',
    schema: ChatCompletionCreateParams,
    demand: (params) => ({ tokens: estimateChatTokens(params) }),
    run: async (principal, params, options) =>
      params.stream ? { chunks: chat.chunks(principal, params, options) } : { json: await chat.createAnswer(principal, params, options) },
  })
}

export function chatCompletionsRoutes(ctx: AppContext): RouteDef[] {
  const { storedCompletions } = ctx.services
  return [
    inferenceRouteDef(ctx, chatCompletionInference(ctx)),
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
