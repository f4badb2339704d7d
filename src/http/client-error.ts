import type { Duplex } from 'node:stream'
import { ApiError, invalidRequest } from '../errors.js'

/**
 * Node's answer to a request its HTTP parser refuses (a bad chunk size, a control character in
 * a header, headers over the size limit) is a bare `400 Bad Request` with no body, which no
 * OpenAI client can read. This writes OpenAI's error body instead; the connection then closes,
 * since the parser cannot tell where the next request would begin.
 */
export function onClientError(error: Error & { code?: string }, socket: Duplex) {
  // the client is gone, or an answer is already on its way: there is no one to tell
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy()
    return
  }
  const apiError = clientError(error)
  const body = JSON.stringify(apiError.toBody(), null, 2)
  socket.end(
    `HTTP/1.1 ${apiError.status} ${STATUS_TEXT[apiError.status] ?? 'Bad Request'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  )
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

function clientError(error: Error & { code?: string; reason?: string }): ApiError {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new ApiError(431, 'The headers of your request are too large.', 'invalid_request_error')
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_REQUEST_TIMEOUT')
    return new ApiError(408, 'Your request took too long to arrive.', 'invalid_request_error')
  const reason = (error.reason ?? error.message).replace(/^Parse Error: /, '').replace(/\.$/, '').toLowerCase()
  return invalidRequest(`Your request is not valid HTTP: ${reason}.`)
}

/** HTTP/1.1 requires a Host header (RFC 9112); HTTP/1.0 clients may leave it out. */
export function missingHost() {
  return invalidRequest('Your request has no Host header, which HTTP/1.1 requires.')
}
