import { StoreUnavailableError } from '../errors.js'

// Node's socket errors for a server that is not there, went away, or cannot be reached
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

// SQLSTATE: 57P01 admin_shutdown (a restart), 57P02 crash_shutdown, 57P03 cannot_connect_now
// (starting or stopping), 53300 too_many_connections; class 08 is connection_exception
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300'])

// what pg and pg-pool say when a connection dies or cannot be had; they set no code
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Connection closed',
  // dialect.ts's query timeout: the server kept the connection but stopped answering
  'Query read timeout',
]

/**
 * Whether an error from pg or ioredis means the server could not be reached or dropped the
 * connection (a restart, an outage), as opposed to a statement or command that failed: the first
 * kind goes away by itself once the server is back, so the request is answered 503 and may be
 * retried.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error instanceof StoreUnavailableError) return true
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || PG_CODES.has(code) || code.startsWith('08'))) return true
  const { message } = error
  if (PG_MESSAGES.some((m) => message.includes(m))) return true
  // ioredis: a command while disconnected (enableOfflineQueue: false), a command timeout, a
  // connection that closed under a command
  if (/Stream isn't writeable|Command timed out|Connection is closed|Reached the max retries per request/.test(message))
    return true
  const cause = (error as { cause?: unknown }).cause
  return cause !== undefined && cause !== error && isConnectionFailure(cause)
}

/** The error to throw on: a StoreUnavailableError for a connection failure, else the error itself. */
export function unavailableOr(error: unknown, store: 'database' | 'rate limiter'): unknown {
  if (error instanceof StoreUnavailableError) return error
  return isConnectionFailure(error) ? new StoreUnavailableError(store, { cause: error }) : error
}
