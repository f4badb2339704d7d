import { AsyncLocalStorage } from 'node:async_hooks'
import type { BodyTap, BodyText } from './request-log.js'

/**
 * What one HTTP request did, filled in by the layers that learn it (auth: the caller; routing: the
 * route; the domain: the model, its tokens and the first token's time) and read once the response
 * has finished, for the access log and the metrics (http/observe.ts). A leaf, so that the domain
 * can report without knowing about HTTP.
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

const storage = new AsyncLocalStorage<RequestRecord>()

export function runWithRequest<T>(record: RequestRecord, fn: () => T): T {
  return storage.run(record, fn)
}

/** The record of the request being served here; undefined in jobs and at boot. */
export function currentRequest(): RequestRecord | undefined {
  return storage.getStore()
}

export function noteCaller(projectId: string | null | undefined, keyId: string | null | undefined) {
  const record = storage.getStore()
  if (!record) return
  record.projectId = projectId ?? undefined
  record.keyId = keyId ?? undefined
}

export function noteUsage(model: string, inputTokens: number, outputTokens: number) {
  const record = storage.getStore()
  if (!record) return
  record.model = model
  record.inputTokens += inputTokens
  record.outputTokens += outputTokens
}

export function noteFirstToken() {
  const record = storage.getStore()
  if (record && record.firstTokenAt === undefined) record.firstTokenAt = performance.now()
}
