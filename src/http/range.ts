import { rangeNotSatisfiable } from '../errors.js'

export type ByteRange = { start: number; end: number }

/**
 * A single `Range: bytes=a-b` (or `a-`, or `-n` for the last n bytes) against a body of `size`
 * bytes, so that an interrupted download can resume. Anything else (several ranges, another
 * unit, nonsense) is ignored and the whole body is sent, as RFC 9110 allows; a range wholly past
 * the end is a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = header ? /^\s*bytes=(\d*)-(\d*)\s*$/.exec(header) : null
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  let start: number
  let end: number
  if (match[1] === '') {
    const suffix = Number(match[2])
    if (suffix === 0) throw rangeNotSatisfiable(size)
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
    if (end < start && match[2] !== '') return undefined
  }
  if (start >= size) throw rangeNotSatisfiable(size)
  return { start, end }
}
