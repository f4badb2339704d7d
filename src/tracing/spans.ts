import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  context,
  createContextKey,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api'
import type { RequestRecord } from '../request-context.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

/**
 * The spans of one HTTP request: the server span (its name, `METHOD route`, is known once
 * routing is done), the child spans around a step, and the OpenAI error a request answered with.
 * Loaded only when tracing is on (sdk.ts).
 */

type ServerState = { span: Span; errorType?: string }

/** The request's server span, whatever child span is active where an error is rendered. */
const SERVER = createContextKey('plinth.server-span')

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])

export function requestSpans(tracer: Tracer) {
  return {
    request(incoming: IncomingMessage, outgoing: ServerResponse, record: RequestRecord, handle: () => void) {
      const parent = remoteParent(incoming)
      // semantic conventions: an unknown method is _OTHER, with the original kept aside
      const method = METHODS.has(incoming.method ?? '') ? incoming.method! : '_OTHER'
      const query = (incoming.url ?? '').indexOf('?')
      const attributes: Attributes = {
        'http.request.method': method,
        'url.path': query < 0 ? incoming.url : incoming.url!.slice(0, query),
        'url.scheme': 'http',
        'network.protocol.version': incoming.httpVersion,
      }
      if (method === '_OTHER') attributes['http.request.method_original'] = incoming.method
      const agent = incoming.headers['user-agent']
      if (agent) attributes['user_agent.original'] = agent
      if (incoming.socket?.remoteAddress) attributes['client.address'] = incoming.socket.remoteAddress
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent)
      const state: ServerState = { span }
      let ended = false
      const end = () => {
        if (ended) return
        ended = true
        endServerSpan(state, method, outgoing, record)
      }
      outgoing.once('finish', end)
      outgoing.once('close', end)
      context.with(trace.setSpan(parent, span).setValue(SERVER, state), handle)
    },

    async span<T>(name: string, fn: () => Promise<T>, attributes?: Attributes): Promise<T> {
      const parent = context.active()
      // a step outside any request (a job's usage flush) is no trace of its own
      if (!trace.getSpan(parent)) return fn()
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent)
      try {
        return await context.with(trace.setSpan(parent, span), fn)
      } catch (error) {
        failSpan(span, error)
        throw error
      } finally {
        span.end()
      }
    },

    headers(headers: Record<string, string>): Record<string, string> {
      const spanContext = trace.getSpan(context.active())?.spanContext()
      if (!spanContext || !isSpanContextValid(spanContext)) return headers
      const traced: Record<string, string> = { ...headers, traceparent: formatTraceparent(spanContext) }
      const state = spanContext.traceState?.serialize()
      if (state) traced.tracestate = state
      return traced
    },

    error(error: { status: number; type: string; code: string | null; message: string }) {
      const state = context.active().getValue(SERVER) as ServerState | undefined
      if (!state) return
      state.errorType = error.code ?? error.type
      state.span.setAttributes({ 'openai.error.type': error.type, ...(error.code ? { 'openai.error.code': error.code } : {}) })
      // the message says what was wrong; 5xx messages carry only the request id (render-error.ts)
      if (error.status >= 500) state.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
    },
  }
}

/** The caller's trace (W3C traceparent and tracestate), or a new one. */
function remoteParent(incoming: IncomingMessage): Context {
  const parent = parseTraceparent(incoming.headers.traceparent)
  if (!parent) return ROOT_CONTEXT
  const state = incoming.headers.tracestate
  return trace.setSpanContext(ROOT_CONTEXT, {
    ...parent,
    isRemote: true,
    traceState: typeof state === 'string' && state ? createTraceState(state) : undefined,
  })
}

function endServerSpan(state: ServerState, method: string, outgoing: ServerResponse, record: RequestRecord) {
  const { span } = state
  if (record.route) {
    span.updateName(`${method} ${record.route}`)
    span.setAttribute('http.route', record.route)
  }
  const attributes: Attributes = {}
  if (outgoing.headersSent) {
    const status = outgoing.statusCode
    attributes['http.response.status_code'] = status
    // semantic conventions: a server span is an error for 5xx only; 4xx are the caller's
    if (status >= 400) attributes['error.type'] = state.errorType ?? String(status)
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
  } else {
    // the client went away before an answer started (the access log's 499)
    attributes['error.type'] = 'client_closed'
  }
  if (record.requestId) attributes['plinth.request_id'] = record.requestId
  if (record.projectId) attributes['plinth.project_id'] = record.projectId
  if (record.keyId) attributes['plinth.key_id'] = record.keyId
  if (record.model) {
    attributes['gen_ai.request.model'] = record.model
    attributes['gen_ai.usage.input_tokens'] = record.inputTokens
    attributes['gen_ai.usage.output_tokens'] = record.outputTokens
  }
  span.setAttributes(attributes)
  span.end()
}

/** A failed step: the exception, the ERROR status, and OpenAI's error type and code when it has them. */
export function failSpan(span: Span, error: unknown) {
  const known = error as { name?: string; message?: string; type?: string; code?: unknown; status?: number; body?: { type?: string; code?: unknown } }
  const type = known?.type ?? known?.body?.type
  const code = known?.code ?? known?.body?.code
  const attributes: Attributes = { 'error.type': typeof code === 'string' ? code : (type ?? known?.name ?? 'Error') }
  if (type) attributes['openai.error.type'] = type
  if (typeof code === 'string') attributes['openai.error.code'] = code
  if (typeof known?.status === 'number') attributes['http.response.status_code'] = known.status
  span.setAttributes(attributes)
  if (error instanceof Error) span.recordException(error)
  span.setStatus({ code: SpanStatusCode.ERROR, message: known?.message })
}
