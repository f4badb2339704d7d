import { z } from 'zod'

/**
 * An integer query parameter (or multipart form field) around `inner` (its range and default
 * checks). Query strings carry text: `20` is read as 20, `1.5` is `expected an integer, but got
 * a decimal instead`, and a word, an empty value, `1e1` or `0x10` is OpenAI's `Invalid type for
 * 'limit': expected an integer, but got a string instead.` (zod's coerce turned a word into NaN,
 * which read "expected a decimal, but got a decimal instead", and took `1e1`, `0x10` and an
 * empty value as numbers). Every list endpoint's `limit` is read with it.
 */
export function queryInteger<T extends z.ZodType<number>>(inner: T) {
  return z.preprocess((value, ctx) => {
    if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value)
    if (typeof value === 'number') return value
    ctx.issues.push({ code: 'invalid_type', expected: 'int', input: value })
    return z.NEVER
  }, inner)
}
