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
