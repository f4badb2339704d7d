import { invalidRequest } from '../../errors.js'
import type { RollupWidth } from '../../storage/tables-usage.js'
import { WIDTH_SECONDS } from './rollup.js'

/** How many buckets one page may hold, per width (the spec's `limit` description). */
const PAGE_LIMITS: Record<RollupWidth, { fallback: number; max: number }> = {
  '1d': { fallback: 7, max: 31 },
  '1h': { fallback: 24, max: 168 },
  '1m': { fallback: 60, max: 1440 },
}

export type PageWindow = {
  width: RollupWidth
  seconds: number
  /** bucket starts of this page */
  starts: number[]
  /** the first bucket start after this page, when the range goes on */
  next: number | null
}

/**
 * The buckets of one page. Buckets are aligned to their width in UTC (a day bucket starts at
 * midnight), the first being the one that holds `start_time`: rollups are kept per aligned
 * bucket, so that is what they can answer. `page` is the next page's first bucket start.
 */
export function pageWindow(
  params: { start_time: number; end_time?: number; limit?: number; page?: string },
  width: RollupWidth,
  limits: { fallback: number; max: number } = PAGE_LIMITS[width],
  now = Math.floor(Date.now() / 1000),
): PageWindow {
  const seconds = WIDTH_SECONDS[width]
  const limit = params.limit ?? limits.fallback
  if (limit > limits.max) {
    throw invalidRequest(
      `Invalid 'limit': integer above maximum value. Expected a value <= ${limits.max}, but got ${limit} instead.`,
      'limit',
      'integer_above_max_value',
    )
  }
  if (limit < 1) {
    throw invalidRequest(
      `Invalid 'limit': integer below minimum value. Expected a value >= 1, but got ${limit} instead.`,
      'limit',
      'integer_below_min_value',
    )
  }
  const first = align(params.start_time, seconds)
  const end = params.end_time ?? now
  if (end <= params.start_time) {
    throw invalidRequest(
      `Invalid 'end_time': it must be after 'start_time' (${params.start_time}), but got ${end}.`,
      'end_time',
      'invalid_value',
    )
  }
  const from = params.page === undefined ? first : decodePage(params.page, first, end, seconds)
  const starts: number[] = []
  for (let s = from; s < end && starts.length < limit; s += seconds) starts.push(s)
  const after = from + limit * seconds
  return { width, seconds, starts, next: after < end ? after : null }
}

function align(time: number, seconds: number): number {
  return time - (((time % seconds) + seconds) % seconds)
}

const PREFIX = 'page_'

/** An opaque cursor, like OpenAI's `page_AAAA...`: the next bucket start. */
export function encodePage(start: number): string {
  return PREFIX + Buffer.from(`b:${start}`).toString('base64url')
}

function decodePage(page: string, first: number, end: number, seconds: number): number {
  const text = page.startsWith(PREFIX) ? Buffer.from(page.slice(PREFIX.length), 'base64url').toString() : ''
  const match = /^b:(-?\d+)$/.exec(text)
  const start = match ? Number(match[1]) : NaN
  if (!Number.isSafeInteger(start) || start < first || start >= end || (start - first) % seconds !== 0) {
    throw invalidRequest(
      `Invalid 'page': '${page}' is not a page of this query. Pass the 'next_page' of the previous response, with the same parameters.`,
      'page',
      'invalid_value',
    )
  }
  return start
}
