import { z } from 'zod'

/** Metadata: up to 16 string pairs, keys up to 64 chars, values up to 512 (OpenAI's limits). */
export const Metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: 'too_many_properties' })

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
  limit: z.coerce.number().int().min(1).max(100).default(20),
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
