import type { z } from 'zod'
import type { AppContext } from '../context.js'
import type { Demand, Reservation } from '../domain/limits/service.js'
import { readJson } from '../http/body.js'
import { requestSignal } from '../http/node-request.js'
import { answerBody } from '../pacing.js'
import { primedSse, type SseEvent, type SseOptions } from '../http/sse.js'
import type { RouteDef } from '../http/routes.js'
import type { ProjectPrincipal } from '../principal.js'
import { rateLimited } from './rate-limited.js'
import { keepBodies } from './request-bodies.js'
import { bodyLimit, chunkStream, projectPrincipal } from './shared.js'

/**
 * What an inference call answers: one JSON object, the chunks of an SSE stream, or (Responses)
 * named SSE events with their own stream options.
 */
export type InferenceOutcome = { json: unknown } | { chunks: AsyncIterable<unknown> } | { events: AsyncIterable<SseEvent>; sse: SseOptions }

export type InferenceOptions = { signal: AbortSignal; requestId: string; limit: Reservation }

/**
 * An inference operation (chat, completions, embeddings) told once and served two ways: as a Hono
 * route (inferenceRouteDef, which in-process callers and the conformance report see) and by the
 * Node fast path in front of Hono (fast-path.ts), which the server uses for these hot routes.
 */
export type InferenceRoute<S extends z.ZodType<{ model: string }> = z.ZodType<{ model: string }>> = {
  /** The spec's path without /v1. */
  path: string
  operationId: string
  schema: S
  /** An unknown argument in the older wording (chat, completions, embeddings); default true. */
  legacyUnknownArgument?: boolean
  /** What the request charges against the project's rate limits before it runs. */
  demand(params: z.output<S>): Demand
  run(principal: ProjectPrincipal, params: z.output<S>, options: InferenceOptions): Promise<InferenceOutcome>
}

/** Keeps each route's own params type while listing them together. */
export function inferenceRoute<S extends z.ZodType<{ model: string }>>(route: InferenceRoute<S>): InferenceRoute {
  return route as unknown as InferenceRoute
}

/** The Hono form of an inference route: body, rate limits, then JSON or a primed SSE stream. */
export function inferenceRouteDef(ctx: AppContext, route: InferenceRoute): RouteDef {
  return {
    method: 'POST',
    path: route.path,
    operationId: route.operationId,
    scope: 'project',
    handler: async (c) => {
      const params = await readJson(c, route.schema, bodyLimit(ctx), { legacyUnknownArgument: route.legacyUnknownArgument ?? true })
      return rateLimited(c, ctx, params.model, route.demand(params), async (limit) => {
        const principal = projectPrincipal(c)
        const outcome = keepBodies(principal, params, await route.run(principal, params, { signal: requestSignal(c), requestId: c.var.requestId, limit }))
        if ('chunks' in outcome) return chunkStream(c, outcome.chunks)
        if ('events' in outcome) return primedSse(c, outcome.events, outcome.sse)
        const body = await answerBody(outcome.json)
        return c.body((body.length === 1 ? body[0] : Buffer.concat(body)) as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/json' })
      })
    },
  }
}
