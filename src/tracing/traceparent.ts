/**
 * The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/): read from a
 * caller so that Plinth's spans join its trace, written on upstream calls so that theirs join
 * Plinth's. Pure, so the format is tested on its own.
 */

export type ParentContext = { traceId: string; spanId: string; traceFlags: number }

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

/** The caller's span, or undefined for a missing or malformed header (a new trace starts). */
export function parseTraceparent(header: string | string[] | undefined): ParentContext | undefined {
  // a repeated traceparent is ambiguous: the spec says to start afresh
  if (typeof header !== 'string') return undefined
  const match = TRACEPARENT.exec(header.trim().toLowerCase())
  if (!match) return undefined
  const [, version, traceId, spanId, flags, rest] = match
  // version ff is forbidden; version 00 has nothing after the flags; a later version may
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 1 }
}

export function formatTraceparent(context: ParentContext): string {
  return `00-${context.traceId}-${context.spanId}-0${context.traceFlags & 1}`
}
