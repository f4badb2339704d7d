import { combineRanges, parse } from 'range-parser'
import { rangeNotSatisfiable } from '../errors.js'

export type ByteRange = { start: number; end: number }

/**
 * The part of a body of `size` bytes that a `Range` header asks for, so that an interrupted
 * download can resume. range-parser reads the header (RFC 9110's grammar: `a-b`, `a-`, `-n`,
 * several ranges, any case). One range, or several that merge into one, is served; anything else
 * is ignored and the whole body sent, as RFC 9110 allows: another unit, a malformed header, or
 * ranges that stay apart (a multipart/byteranges body buys a file download nothing). When no
 * range can be satisfied, it is a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined
  const parsed = parse(size, header)
  if (parsed.type !== 'bytes' || parsed.code & 1) return undefined
  if (parsed.ranges.length === 0) {
    // `-n` on an empty body is satisfiable and selects nothing: the (empty) body, as RFC 9110 says
    if (parsed.code === 0) return undefined
    throw rangeNotSatisfiable(size)
  }
  const merged = combineRanges(parsed.ranges)
  return merged.length === 1 ? { start: merged[0].start, end: merged[0].end } : undefined
}
