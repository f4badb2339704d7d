import { z } from 'zod'

/**
 * An integer query parameter around `inner` (its range and default checks). Query strings carry
 * text: `20` is read as 20, and a word is OpenAI's `Invalid type for 'limit': expected an
 * integer, but got a string instead.` (zod's coerce turned it into NaN, which read "expected a
 * decimal, but got a decimal instead").
 */
export function queryInteger<T extends z.ZodType<number>>(inner: T) {
  return z.preprocess((value, ctx) => {
    if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value)
    if (typeof value === 'number') return value
    ctx.issues.push({ code: 'invalid_type', expected: 'int', input: value })
    return z.NEVER
  }, inner)
}
