import type { AppContext } from '../context.js'
import { estimateResponseTokens } from '../domain/limits/estimate.js'
import type { ResponseEvent } from '../domain/responses/events.js'
import { readJson, readQuery } from '../http/body.js'
import { requestSignal } from '../http/node-request.js'
import { toApiError } from '../http/render-error.js'
import type { RouteDef } from '../http/routes.js'
import { primedSse, type SseEvent, type SseOptions } from '../http/sse.js'
import { answerBody } from '../pacing.js'
import { InputItemsQuery, ResponseCreateParams, ResponseRetrieveQuery } from '../schemas/responses.js'
import { rateLimited } from './rate-limited.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** Each event named by its type (`event: response.created`); no `[DONE]` ends the stream. */
async function* namedEvents(events: AsyncIterable<ResponseEvent>): AsyncGenerator<SseEvent> {
  for await (const event of events) yield { event: event.type, data: event }
}

function responseSseOptions(requestId: string): SseOptions {
  // a failure the domain did not turn into events: `event: error` with OpenAI's error envelope
  return { end: 'none', errorEvent: 'event', toApiError: (error) => toApiError(error, requestId) }
}

/** The Responses API (docs/responses.md): create (JSON or SSE), retrieve, delete, input items. */
export function responsesRoutes(ctx: AppContext): RouteDef[] {
  const { responses } = ctx.services
  return [
    {
      // spec: createResponse
      method: 'POST',
      path: '/responses',
      operationId: 'createResponse',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, ResponseCreateParams, bodyLimit(ctx))
        // rate limits and usage as chat's: the request is charged to its model
        return rateLimited(c, ctx, params.model, { tokens: estimateResponseTokens(params) }, async (limit) => {
          const options = { signal: requestSignal(c), requestId: c.var.requestId, limit }
          const principal = projectPrincipal(c)
          if (params.stream) return primedSse(c, namedEvents(responses.events(principal, params, options)), responseSseOptions(c.var.requestId))
          const body = await answerBody(await responses.create(principal, params, options))
          return c.body((body.length === 1 ? body[0] : Buffer.concat(body)) as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/json' })
        })
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
