import type { BodyTap, BodyText } from './request-log.js'

/**
 * What one HTTP request did, filled in by the layers that learn it (auth: the caller; routing: the
 * route; the domain: the model, its tokens and the first token's time) and read once the response
 * has finished, for the access log and the metrics (http/observe.ts). A leaf, so that the domain
 * can report without knowing about HTTP.
 *
 * The record is handed along, not found through AsyncLocalStorage: on Node 20 an enabled
 * AsyncLocalStorage runs a hook on every promise created anywhere (and gives each promise one
 * more property), about 8% of a proxied stream's CPU. The HTTP layer attaches it to Node's request
 * (recordOf), the principal of an authenticated request carries it into the domain
 * (Principal.request), and the domain notes on it what it learns.
 */
export type RequestRecord = {
  startedAt: number
  /** x-request-id, as the response carries it. */
  requestId?: string
  /** The route's template (`/v1/threads/:thread_id`), never the raw path: metrics stay bounded. */
  route?: string
  projectId?: string
  keyId?: string
  model?: string
  inputTokens: number
  outputTokens: number
  /** performance.now() when the first generated token was sent (streamed answers). */
  firstTokenAt?: number
  /** The prompt and answer text, for a project that keeps them in the request log (api/request-bodies.ts). */
  bodies?: { prompt: BodyText; answer: BodyTap }
}

// A symbol property, not a WeakMap: every WeakMap entry of a short-lived key is an ephemeron the
// garbage collector must revisit at each scavenge, a few µs of GC a request under load
const RECORD = Symbol('plinth.requestRecord')

/** Ties a record to its request (Node's IncomingMessage): observe.ts does it for every request. */
export function attachRecord(request: object, record: RequestRecord) {
  ;(request as { [RECORD]?: RequestRecord })[RECORD] = record
}

/** The record of a request (Node's IncomingMessage); undefined in-process (tests) and in jobs. */
export function recordOf(request: object | undefined): RequestRecord | undefined {
  return request ? (request as { [RECORD]?: RequestRecord })[RECORD] : undefined
}

export function noteCaller(record: RequestRecord | undefined, projectId: string | null | undefined, keyId: string | null | undefined) {
  if (!record) return
  record.projectId = projectId ?? undefined
  record.keyId = keyId ?? undefined
}

export function noteUsage(record: RequestRecord | undefined, model: string, inputTokens: number, outputTokens: number) {
  if (!record) return
  record.model = model
  record.inputTokens += inputTokens
  record.outputTokens += outputTokens
}

export function noteFirstToken(record: RequestRecord | undefined) {
  if (record && record.firstTokenAt === undefined) record.firstTokenAt = performance.now()
}
