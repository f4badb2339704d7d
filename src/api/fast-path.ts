import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AppContext } from '../context.js'
import { checkAccess, principalOf } from '../http/auth.js'
import { checkClientCertificate } from '../http/client-certificate.js'
import { readIncomingJson, validateBody } from '../http/body.js'
import { outgoingSignal } from '../http/node-request.js'
import { batchEnd, busy, enterRequest, leaveRequest } from '../io-batch.js'
import { answerBody, answerText } from '../pacing.js'
import { routeAccess, type RouteAccess } from '../http/permissions.js'
import { sendNodeError } from '../http/render-error.js'
import { newRequestId, type HeaderFacts, type headerPolicy } from '../http/response-headers.js'
import { primedNodeSse } from '../http/sse.js'
import { apiLog } from '../logger.js'
import { withRequest, type ProjectPrincipal } from '../principal.js'
import { noteCaller, type RequestRecord } from '../request-context.js'
import { completionInference } from './completions.js'
import { chatCompletionInference } from './chat/completions.js'
import { embeddingInference } from './embeddings.js'
import { responseInference } from './responses.js'
import type { InferenceRoute } from './inference.js'
import { moderationInference } from './moderations.js'
import { keepBodies } from './request-bodies.js'
import { bodyLimit, chunkFrame, chunkSseOptions } from './shared.js'

/** Node's response or request header, as one string. */
function header(incoming: IncomingMessage, name: string): string | undefined {
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * The hot inference routes (POST /v1/chat/completions, /v1/completions, /v1/embeddings,
 * /v1/moderations, /v1/responses)
 * served on Node's own request and response, in front of Hono. A proxied call's whole budget is
 * about 100 µs of CPU; Hono's compose, context and the adapter's Request/Response took half of it.
 * Every step is the one the Hono route takes, from the same functions: auth (principalOf, as authenticateRequest,
 * checkAccess), body (readIncomingJson, validateBody), rate limits, the route's `run`, the standard
 * headers (headerPolicy) and OpenAI's error body (sendNodeError). Anything else, including CORS
 * preflights, returns false and goes to Hono.
 */
export function inferenceFastPath(ctx: AppContext, policy: ReturnType<typeof headerPolicy>) {
  const routes = new Map<string, { route: InferenceRoute; access: RouteAccess }>()
  for (const route of [chatCompletionInference(ctx), completionInference(ctx), embeddingInference(ctx), moderationInference(ctx), responseInference(ctx)]) {
    routes.set('/v1' + route.path, { route, access: routeAccess({ method: 'POST', path: route.path }) })
  }
  const authenticate = (secret: string) => ctx.services.keys.authenticate(secret)
  const cached = (secret: string) => ctx.services.keys.cached(secret)
  const limit = bodyLimit(ctx)
  const certificateHeader = ctx.config.server.clientCertificateHeader?.toLowerCase()

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse, route: InferenceRoute, access: RouteAccess, record: RequestRecord | undefined) {
    const facts: HeaderFacts = { requestId: newRequestId(record), startedAt: performance.now(), origin: header(incoming, 'origin') }
    const headers = () => policy.standard(facts)
    try {
      const known = principalOf(header(incoming, 'authorization'), authenticate, cached)
      const principal = withRequest(known instanceof Promise ? await known : known, record)
      noteCaller(record, principal.projectId, principal.keyId)
      facts.projectId = principal.projectId
      if (certificateHeader) checkClientCertificate(principal, header(incoming, certificateHeader))
      checkAccess(principal, { organization: header(incoming, 'openai-organization'), project: header(incoming, 'openai-project') }, 'project', access)
      const params = validateBody(route.schema, await readIncomingJson(incoming, limit), { legacyUnknownArgument: route.legacyUnknownArgument ?? true })
      const reservation = await ctx.services.limits.reserve(principal, params.model, route.demand(params))
      if (reservation.headers) facts.rateLimitHeaders = reservation.headers
      try {
        const options = { signal: outgoingSignal(outgoing), requestId: facts.requestId, limit: reservation }
        const outcome = keepBodies(principal, params, await route.run(principal as ProjectPrincipal, params, options))
        if ('chunks' in outcome) {
          await primedNodeSse(outgoing, outcome.chunks, chunkSseOptions(facts.requestId), headers, chunkFrame)
          return
        }
        if ('events' in outcome) {
          await primedNodeSse(outgoing, outcome.events, outcome.sse, headers)
          return
        }
        // a small answer as one string: Node sends the head and the body in one write
        const text = answerText(outcome.json)
        const body = text === undefined ? await answerBody(outcome.json) : undefined
        if (busy()) await batchEnd()
        const all = headers()
        all['content-type'] = 'application/json'
        if (body === undefined) {
          all['content-length'] = String(Buffer.byteLength(text!))
          outgoing.writeHead(200, all)
          outgoing.end(text)
          return
        }
        all['content-length'] = String(body.reduce((sum, b) => sum + b.length, 0))
        outgoing.writeHead(200, all)
        for (let i = 0; i < body.length - 1; i++) outgoing.write(body[i])
        outgoing.end(body[body.length - 1])
      } catch (error) {
        // the request never recorded usage: its estimated tokens go back
        reservation.settle(0)
        throw error
      }
    } catch (error) {
      sendNodeError(outgoing, error, facts.requestId, headers())
    }
  }

  /** Serves the request and returns true when it is one of the fast routes; false leaves it to Hono. */
  return (incoming: IncomingMessage, outgoing: ServerResponse, record?: RequestRecord): boolean => {
    if (incoming.method !== 'POST') return false
    const url = incoming.url ?? ''
    const query = url.indexOf('?')
    const entry = routes.get(query < 0 ? url : url.slice(0, query))
    if (!entry) return false
    if (record) record.route = '/v1' + entry.route.path
    // handle answers every failure itself; anything past that (a socket that broke while the
    // error was written) is logged, never an unhandled rejection that would end the process
    enterRequest()
    handle(incoming, outgoing, entry.route, entry.access, record)
      .catch((error) => {
        apiLog.error({ err: error }, 'inference request failed after its answer')
        outgoing.destroy()
      })
      .finally(leaveRequest)
    return true
  }
}
