import type { IncomingMessage, ServerResponse } from 'node:http'
import { writeAccessLine } from '../logger.js'
import { httpDuration, httpRequests, timeToFirstToken } from '../metrics.js'
import { attachRecord, type RequestRecord } from '../request-context.js'
import type { RequestLog } from '../request-log.js'
import { tracing } from '../tracing/tracing.js'

/**
 * Runs one request's handling with its RequestRecord (also attached to `incoming`, where the Hono
 * path finds it) and, once the response has been sent (or the client has gone), writes the access
 * log line and the request metrics from it. One place for every path a request can take: the
 * inference fast path, Hono, and the listener's refusals.
 */
export function observeRequest(incoming: IncomingMessage, outgoing: ServerResponse, handle: (record: RequestRecord) => void, requestLog?: RequestLog) {
  const record: RequestRecord = { startedAt: performance.now(), inputTokens: 0, outputTokens: 0 }
  let done = false
  const finish = () => {
    if (done) return
    done = true
    report(incoming, outgoing, record, requestLog)
  }
  // 'close' comes once the response has finished (the turn after 'finish') or once the client
  // went away first: one plain listener serves both, without once()'s wrapper per request
  outgoing.on('close', finish)
  attachRecord(incoming, record)
  if (tracing) tracing.request(incoming, outgoing, record, () => handle(record))
  else handle(record)
}

function report(incoming: IncomingMessage, outgoing: ServerResponse, record: RequestRecord, requestLog?: RequestLog) {
  const seconds = (performance.now() - record.startedAt) / 1000
  const method = incoming.method ?? 'GET'
  // a response cut short before its headers were sent is logged as 499, as nginx does
  const status = outgoing.headersSent ? outgoing.statusCode : 499
  const route = record.route ?? 'unmatched'
  const statusLabel = String(status)
  httpRequests.inc(1, route, method, statusLabel, record.model ?? '', record.projectId ?? '')
  httpDuration.observe(seconds, route, method, statusLabel)
  if (record.firstTokenAt !== undefined && record.model) {
    timeToFirstToken.observe((record.firstTokenAt - record.startedAt) / 1000, record.model)
  }
  // the path without its query: a query may carry values worth keeping out of logs
  const path = (incoming.url ?? '').split('?')[0]
  // the dashboard's request log keeps API requests only (not its own pages, probes or scrapes)
  if (requestLog && path.startsWith('/v1/')) {
    requestLog.add({
      at: Date.now(),
      method,
      route,
      path,
      status,
      ms: Math.round(seconds * 10_000) / 10,
      requestId: record.requestId,
      projectId: record.projectId,
      keyId: record.keyId,
      model: record.model,
      inputTokens: record.model ? record.inputTokens : undefined,
      outputTokens: record.model ? record.outputTokens : undefined,
      ...(record.bodies ? bodiesOf(record.bodies) : {}),
    })
  }
  writeAccessLine(
    {
      method,
      route,
      path,
      status,
      ms: Math.round(seconds * 10_000) / 10,
      request_id: record.requestId,
      project: record.projectId,
      key_id: record.keyId,
      model: record.model,
      tokens_in: record.model ? record.inputTokens : undefined,
      tokens_out: record.model ? record.outputTokens : undefined,
    },
    `${method} ${route} ${status}`,
  )
}

/** What a request's record kept of its prompt and answer; an empty side (an embedding's answer) is left out. */
function bodiesOf(bodies: NonNullable<RequestRecord['bodies']>) {
  const answer = bodies.answer.body()
  return { prompt: bodies.prompt.text ? bodies.prompt : undefined, answer: answer.text ? answer : undefined }
}
