import { z } from 'zod'
import { queryInteger } from './query-integer.js'

/**
 * An object of at most `max` properties, counted before its entries are validated: zod checks a
 * record's size only after parsing every entry, and 200k entries with bad values took 300 ms.
 */
export function boundedRecord<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, max: number) {
  return z
    .unknown()
    .check((ctx) => {
      const input = ctx.value
      if (!input || typeof input !== 'object' || Array.isArray(input)) return
      let count = 0
      for (const _ in input) if (++count > max) break
      if (count > max) ctx.issues.push({ code: 'custom', message: `too_many_properties:${max}`, input, continue: false })
    })
    .pipe(z.record(key, value))
}

/** Metadata: up to 16 string pairs, keys up to 64 chars, values up to 512 (OpenAI's limits). */
export const Metadata = boundedRecord(z.string().max(64), z.string().max(512), 16)

/**
 * Token ids: one pass that reports the first bad item only. z.array(z.number().int().min(0))
 * records an issue for every bad item, and 300,000 negative ids took 700 ms; z.array(z.unknown())
 * still ran a parse per item (2048 arrays of 146 ids: 20 ms in one step), so the array itself is
 * checked here too, with the issues zod's array would give.
 */
export const TokenArray = z.unknown().check((ctx) => {
  const items = ctx.value
  if (!Array.isArray(items)) {
    ctx.issues.push({ code: 'invalid_type', expected: 'array', input: items, continue: false })
    return
  }
  if (items.length < 1) {
    // not aborting, as zod's own .min(1): a union then reports this option's issue alone
    ctx.issues.push({ code: 'too_small', origin: 'array', minimum: 1, inclusive: true, input: items, continue: true })
    return
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0) continue
    if (typeof item !== 'number') ctx.issues.push({ code: 'invalid_type', expected: 'number', input: item, path: [i], continue: false })
    else if (!Number.isInteger(item)) ctx.issues.push({ code: 'invalid_type', expected: 'int', input: item, path: [i], continue: false })
    else ctx.issues.push({ code: 'too_small', origin: 'number', minimum: 0, inclusive: true, input: item, path: [i], continue: false })
    return
  }
}) as unknown as z.ZodType<number[]>

/**
 * Union options that name the alternatives in OpenAI's words for a type error (errors.md C9:
 * "expected one of a string or array of objects"), where zod only knows "string" and "array".
 */
export function expected(description: string) {
  return { error: (issue: { code?: string }) => (issue.code === 'invalid_union' ? `expected ${description}` : undefined) }
}

/**
 * A strict request object that also takes the response-only keys a client sends back when it
 * echoes an object the API returned (the agent loop pushes `completion.choices[0].message` into
 * the next request). OpenAI accepts those keys and ignores them, so they are dropped here and
 * reach neither the domain nor storage nor an upstream. Any other unknown key is still OpenAI's
 * `Unknown parameter: '<path>'.`: it rejects nested keys it has never returned
 * (`messages[0].content[0].cache_control`), so the object is not made loose.
 */
export function echoedObject<S extends z.ZodRawShape>(shape: S, responseOnly: readonly string[]) {
  const ignored = Object.fromEntries(responseOnly.map((key) => [key, z.unknown().optional()]))
  return z.strictObject({ ...shape, ...ignored }).transform((value) => {
    const kept: Record<string, unknown> = { ...value }
    for (const key of responseOnly) delete kept[key]
    return kept as z.output<z.ZodObject<S, z.core.$strict>>
  })
}

export const ListOrder = z.enum(['asc', 'desc'])

/** Query strings arrive as text; numbers are coerced with OpenAI's range checks. */
export const ListQuery = z.strictObject({
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: ListOrder.default('desc'),
})

export type ListPage<T> = {
  object: 'list'
  data: T[]
  first_id: string | null
  last_id: string | null
  has_more: boolean
}

/** Rows of one keyset page → OpenAI's list object (openai-node's CursorPage reads it). */
export function toPage<T extends { id: string }>(data: T[], hasMore: boolean): ListPage<T> {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: hasMore,
  }
}
