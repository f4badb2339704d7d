import type { AppContext } from '../context.js'
import { estimateResponseTokens } from '../domain/limits/estimate.js'
import type { ResponseEvent } from '../domain/responses/events.js'
import { readJson, readQuery } from '../http/body.js'
import { toApiError } from '../http/render-error.js'
import type { RouteDef } from '../http/routes.js'
import { primedSse, type SseEvent, type SseOptions } from '../http/sse.js'
import { InputItemsQuery, InputTokenCountParams, ResponseCreateParams, ResponseRetrieveQuery } from '../schemas/responses.js'
import { inferenceRoute, inferenceRouteDef, type InferenceRoute } from './inference.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** Each event named by its type (`event: response.created`); no `[DONE]` ends the stream. */
async function* namedEvents(events: AsyncIterable<ResponseEvent>): AsyncGenerator<SseEvent> {
  for await (const event of events) yield { event: event.type, data: event }
}

function responseSseOptions(requestId: string): SseOptions {
  // a failure the domain did not turn into events: `event: error` with OpenAI's error envelope
  return { end: 'none', errorEvent: 'event', toApiError: (error) => toApiError(error, requestId) }
}

/** createResponse: served by Hono and by the Node fast path (api/inference.ts), as chat is. */
export function responseInference(ctx: AppContext): InferenceRoute {
  const { responses } = ctx.services
  return inferenceRoute({
    path: '/responses',
    operationId: 'createResponse',
    schema: ResponseCreateParams,
    legacyUnknownArgument: false,
    // rate limits and usage as chat's: the request is charged to its model
    demand: (params) => ({ tokens: estimateResponseTokens(params) }),
    run: async (principal, params, options) => {
      if (params.stream) return { events: namedEvents(responses.events(principal, params, options)), sse: responseSseOptions(options.requestId) }
      return { json: await responses.create(principal, params, options) }
    },
  })
}

/** The Responses API (docs/responses.md): create (JSON or SSE), retrieve, delete, input items, cancel. */
export function responsesRoutes(ctx: AppContext): RouteDef[] {
  const { responses } = ctx.services
  return [
    // spec: createResponse
    inferenceRouteDef(ctx, responseInference(ctx)),
    {
      // Plinth: OpenAI serves it (SDK 6's responses.inputTokens.count), newer than the spec file
      method: 'POST',
      path: '/responses/input_tokens',
      operationId: 'countResponseInputTokens',
      scope: 'project',
      extension: true,
      handler: async (c) => {
        const params = await readJson(c, InputTokenCountParams, bodyLimit(ctx))
        return c.json(await responses.inputTokens(projectPrincipal(c), params))
      },
    },
    {
      // spec: getResponse
      method: 'GET',
      path: '/responses/{response_id}',
      operationId: 'getResponse',
      scope: 'project',
      handler: async (c) => {
        const query = readQuery(c, ResponseRetrieveQuery)
        const principal = projectPrincipal(c)
        const id = c.req.param('response_id')!
        // SDK 6's retrieve({ stream: true, starting_after }): the events again, live while it runs
        if (query.stream) return primedSse(c, namedEvents(responses.retrieveEvents(principal, id, query.starting_after)), responseSseOptions(c.var.requestId))
        return c.json(await responses.store.get(principal, id))
      },
    },
    {
      // Plinth: OpenAI serves it (SDK 6's responses.cancel) but the spec file Plinth follows has
      // it not; only a background response can be cancelled
      method: 'POST',
      path: '/responses/{response_id}/cancel',
      operationId: 'cancelResponse',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await responses.cancel(projectPrincipal(c), c.req.param('response_id')!)),
    },
    {
      // spec: deleteResponse
      method: 'DELETE',
      path: '/responses/{response_id}',
      operationId: 'deleteResponse',
      scope: 'project',
      handler: async (c) => c.json(await responses.store.delete(projectPrincipal(c), c.req.param('response_id')!)),
    },
    {
      // spec: listInputItems
      method: 'GET',
      path: '/responses/{response_id}/input_items',
      operationId: 'listInputItems',
      scope: 'project',
      handler: async (c) => c.json(await responses.store.inputItems(projectPrincipal(c), c.req.param('response_id')!, readQuery(c, InputItemsQuery))),
    },
  ]
}
