import { z } from 'zod'
import { queryInteger } from './query-integer.js'

/**
 * Query parameters of the usage and costs endpoints (tag Usage). Query strings carry text: numbers
 * and booleans are read from it here, so that a missing value is reported as missing and a word
 * where a number belongs as the wrong type. Arrays come as `ids[]=a&ids[]=b` (the SDKs) or as a
 * repeated or single `ids=a`.
 */
const integer = queryInteger(z.number().int())
const boolean = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).min(1))

export const BucketWidth = z.enum(['1m', '1h', '1d'])
export type BucketWidth = z.output<typeof BucketWidth>

const base = {
  start_time: integer,
  end_time: integer.optional(),
  bucket_width: BucketWidth.default('1d'),
  limit: integer.optional(),
  page: z.string().optional(),
  project_ids: list(z.string()).optional(),
}

const byKeyAndModel = {
  ...base,
  user_ids: list(z.string()).optional(),
  api_key_ids: list(z.string()).optional(),
  models: list(z.string()).optional(),
}

const groups = ['project_id', 'user_id', 'api_key_id', 'model'] as const

export const UsageCompletionsQuery = z.strictObject({
  ...byKeyAndModel,
  batch: boolean.optional(),
  group_by: list(z.enum([...groups, 'batch'])).optional(),
})

/** embeddings, moderations, audio speeches, audio transcriptions */
export const UsageByModelQuery = z.strictObject({
  ...byKeyAndModel,
  group_by: list(z.enum(groups)).optional(),
})

export const UsageImagesQuery = z.strictObject({
  ...byKeyAndModel,
  sources: list(z.enum(['image.generation', 'image.edit', 'image.variation'])).optional(),
  sizes: list(z.enum(['256x256', '512x512', '1024x1024', '1792x1792', '1024x1792'])).optional(),
  group_by: list(z.enum([...groups, 'size', 'source'])).optional(),
})

/** vector stores and code interpreter sessions: per project only */
export const UsageByProjectQuery = z.strictObject({
  ...base,
  group_by: list(z.enum(['project_id'])).optional(),
})

/** Costs: daily buckets only, 1 to 180 of them (7 by default). api_key_ids is the SDK's addition. */
export const CostsQuery = z.strictObject({
  start_time: integer,
  end_time: integer.optional(),
  bucket_width: z.enum(['1d']).default('1d'),
  project_ids: list(z.string()).optional(),
  api_key_ids: list(z.string()).optional(),
  group_by: list(z.enum(['project_id', 'line_item', 'api_key_id'])).optional(),
  limit: queryInteger(z.number().int().min(1).max(180)).default(7),
  page: z.string().optional(),
})

export type CostsQuery = z.output<typeof CostsQuery>
