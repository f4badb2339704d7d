import { type ErrorBody, ProviderError } from '../../errors.js'
import { upstreamErrors } from '../../metrics.js'

type ErrorDetail = ErrorBody['error']

/** Why Plinth itself ended an upstream request, when it did. */
export type AbortCause = 'client' | 'timeout' | 'headers-timeout'

const MAX_MESSAGE = 1000

/**
 * A non-2xx upstream answer → ProviderError. Bodies are read loosely, as servers disagree:
 * OpenAI `{error:{message,...}}`, Ollama `{error:"..."}`, vLLM `{object:"error",message}`,
 * FastAPI `{detail:...}`, or plain text from a proxy in front.
 */
export function upstreamStatusError(
  upstreamId: string,
  status: number,
  text: string,
): ProviderError {
  upstreamErrors.inc({ upstream: upstreamId, status: String(status) })
  const detail = parseErrorBody(text)
  const said = detail?.message ?? (text.trim().slice(0, MAX_MESSAGE) || `HTTP ${status}`)
  if (status === 401 || status === 403) {
    // the client's key was accepted by Plinth; a 401 would send them looking at the wrong key.
    // The upstream's words stay in the cause (for the log): OpenAI's quote part of the key.
    return new ProviderError(
      502,
      `the upstream '${upstreamId}' rejected Plinth's credentials (HTTP ${status}); the server's upstream key is missing or wrong`,
      undefined,
      { cause: new Error(said) },
    )
  }
  if (status >= 400 && status < 500 && detail) {
    // FastAPI-style servers answer bad input with 422; OpenAI clients know it as 400
    const kept = status === 422 ? 400 : status
    return new ProviderError(
      kept,
      `upstream '${upstreamId}' answered HTTP ${status}: ${detail.message}`,
      detail,
    )
  }
  if (status >= 400 && status < 500) {
    // an unstructured 4xx comes from something in the way (a wrong baseURL, a proxy), not from
    // the model server judging the client's request
    return new ProviderError(502, `upstream '${upstreamId}' answered HTTP ${status}: ${said}`)
  }
  return new ProviderError(
    status,
    `upstream '${upstreamId}' answered HTTP ${status}: ${said}`,
    detail,
  )
}

/** A `data: {"error": ...}` event in the middle of an upstream stream. */
export function upstreamStreamError(upstreamId: string, payload: unknown): ProviderError {
  upstreamErrors.inc({ upstream: upstreamId, status: 'stream' })
  const detail = toDetail(payload) ?? {
    message: 'unknown error',
    type: 'server_error',
    param: null,
    code: null,
  }
  return new ProviderError(
    502,
    `upstream '${upstreamId}' failed mid-stream: ${detail.message}`,
    detail,
  )
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/**
 * A failure below HTTP (refused, reset, DNS, timeout) → ProviderError. Messages name the
 * upstream by id only: no address, never a key.
 */
export function transportError(
  upstreamId: string,
  error: unknown,
  cause: AbortCause | undefined,
  limits: { connectTimeoutMs: number; timeoutMs: number },
): ProviderError {
  if (error instanceof ProviderError) return error
  // a client that went away is not the upstream's failure
  if (cause !== 'client') upstreamErrors.inc({ upstream: upstreamId, status: cause === 'timeout' || cause === 'headers-timeout' ? 'timeout' : 'network' })
  if (cause === 'timeout') {
    return new ProviderError(
      504,
      `upstream '${upstreamId}' did not finish within ${limits.timeoutMs} ms`,
      undefined,
      { cause: error },
    )
  }
  if (cause === 'client') {
    return new ProviderError(
      502,
      `request to upstream '${upstreamId}' cancelled: the client went away`,
      undefined,
      { cause: error },
    )
  }
  const code = errorCode(error)
  if (
    cause === 'headers-timeout' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT'
  ) {
    return new ProviderError(
      504,
      `upstream '${upstreamId}' did not answer within ${limits.connectTimeoutMs} ms`,
      undefined,
      { cause: error },
    )
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new ProviderError(
      504,
      `upstream '${upstreamId}' stopped sending for ${limits.timeoutMs} ms`,
      undefined,
      { cause: error },
    )
  }
  if (code && UNREACHABLE.has(code)) {
    return new ProviderError(
      502,
      `cannot connect to upstream '${upstreamId}' (${code})`,
      undefined,
      { cause: error },
    )
  }
  if (
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CLOSED' ||
    code === 'EPIPE' ||
    code === 'ECONNRESET'
  ) {
    return new ProviderError(
      502,
      `upstream '${upstreamId}' closed the connection before the answer was complete`,
      undefined,
      { cause: error },
    )
  }
  if (error instanceof SyntaxError) {
    return new ProviderError(502, `upstream '${upstreamId}' sent malformed JSON`, undefined, {
      cause: error,
    })
  }
  return new ProviderError(
    502,
    `request to upstream '${upstreamId}' failed${code ? ` (${code})` : ''}`,
    undefined,
    { cause: error },
  )
}

function errorCode(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string') return e.code
  }
  return undefined
}

export function parseErrorBody(text: string): ErrorDetail | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!body || typeof body !== 'object') return undefined
  const record = body as Record<string, unknown>
  if ('error' in record) return toDetail(record.error)
  if ('detail' in record) return toDetail(record.detail)
  if (typeof record.message === 'string') return toDetail(record)
  return undefined
}

/** One error value of any of the shapes servers use → OpenAI's `{ message, type, param, code }`. */
function toDetail(value: unknown): ErrorDetail | undefined {
  if (typeof value === 'string')
    return {
      message: value.slice(0, MAX_MESSAGE),
      type: 'invalid_request_error',
      param: null,
      code: null,
    }
  if (Array.isArray(value)) {
    // FastAPI validation: [{ loc: ['body', 'temperature'], msg: '...' }]
    const messages = value.map((v) =>
      v && typeof v === 'object' ? describeIssue(v as Record<string, unknown>) : String(v),
    )
    return messages.length
      ? {
          message: messages.join('; ').slice(0, MAX_MESSAGE),
          type: 'invalid_request_error',
          param: null,
          code: null,
        }
      : undefined
  }
  if (!value || typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  const message =
    typeof v.message === 'string'
      ? v.message
      : typeof v.msg === 'string'
        ? v.msg
        : JSON.stringify(v).slice(0, MAX_MESSAGE)
  return {
    message,
    // vLLM puts exception class names here (BadRequestError); OpenAI's types are snake_case words
    type: typeof v.type === 'string' && /^[a-z_]+$/.test(v.type) ? v.type : 'invalid_request_error',
    param: typeof v.param === 'string' ? v.param : null,
    code: typeof v.code === 'string' ? v.code : null,
  }
}

function describeIssue(issue: Record<string, unknown>): string {
  const message = typeof issue.msg === 'string' ? issue.msg : JSON.stringify(issue)
  const loc = Array.isArray(issue.loc) ? issue.loc.filter((part) => part !== 'body').join('.') : ''
  return loc ? `${loc}: ${message}` : message
}

/** A model's two names: the upstream's, and the public id the client asked for. */
export type ModelNames = { upstream: string; public: string }

/** Errors already in public names: an exchange's failure may pass through `fail` twice. */
const renamed = new WeakSet<ProviderError>()

/**
 * The error with the upstream's model name replaced by the public id, wherever the upstream's
 * words name it: a client never learns (nor is confused by) the name behind its model.
 */
export function withPublicModel(error: ProviderError, names: ModelNames | undefined): ProviderError {
  if (!names || names.upstream === names.public || !names.upstream || renamed.has(error)) return error
  // the name as a whole token: not inside a longer name (`gpt-4o` in `gpt-4o-mini`)
  const escaped = names.upstream.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(`(?<![\\w.:/-])${escaped}(?![\\w:/-]|\\.\\w)`, 'g')
  const rename = (text: string) => text.replace(pattern, () => names.public)
  const body = error.body && { ...error.body, message: rename(error.body.message), param: error.body.param && rename(error.body.param) }
  const result = new ProviderError(error.status, rename(error.message), body, { cause: error.cause })
  renamed.add(result)
  return result
}

/** The names of a call that knows the client's id for its model (audio, images, moderations). */
export function namesOfCall(call: { model: string; publicModel?: string }): ModelNames | undefined {
  return call.publicModel === undefined ? undefined : { upstream: call.model, public: call.publicModel }
}
