import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { expected, ListOrder, Metadata } from './shared.js'

/** `chunking_strategy` of a request: `auto` (800/400) or `static` (checked further in the domain). */
export const ChunkingStrategyParam = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto') }),
  z.strictObject({
    type: z.literal('static'),
    static: z.strictObject({
      max_chunk_size_tokens: z.number().int().min(100).max(4096),
      chunk_overlap_tokens: z.number().int(),
    }),
  }),
])
export type ChunkingStrategyParam = z.output<typeof ChunkingStrategyParam>

/** What a file was chunked with, as the VectorStoreFile shows it. */
export type StaticChunking = {
  type: 'static'
  static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number }
}

/**
 * VectorStoreFileAttributes: up to 16 keys of up to 64 characters; values are strings of up to
 * 512 characters, numbers or booleans.
 */
export const Attributes = z
  .record(
    z.string().max(64),
    z.union([z.string().max(512), z.number(), z.boolean()], expected('one of a string, a number or a boolean')),
  )
  .refine((m) => Object.keys(m).length <= 16, { message: 'too_many_properties' })
export type Attributes = Record<string, string | number | boolean>

export const ExpiresAfter = z.strictObject({
  anchor: z.enum(['last_active_at']),
  days: z.number().int().min(1).max(365),
})
export type ExpiresAfter = z.output<typeof ExpiresAfter>

export const VectorStoreCreateParams = z.strictObject({
  file_ids: z.array(z.string()).max(500).optional(),
  name: z.string().max(256).optional(),
  /** newer SDKs send it; kept and shown back */
  description: z.string().max(512).optional(),
  expires_after: ExpiresAfter.optional(),
  chunking_strategy: ChunkingStrategyParam.optional(),
  metadata: Metadata.nullish(),
})
export type VectorStoreCreateParams = z.output<typeof VectorStoreCreateParams>

export const VectorStoreUpdateParams = z.strictObject({
  name: z.string().max(256).nullish(),
  expires_after: ExpiresAfter.nullish(),
  metadata: Metadata.nullish(),
})
export type VectorStoreUpdateParams = z.output<typeof VectorStoreUpdateParams>

/** Lists of vector stores and their files: `after` and `before` cursors, 1-100 per page. */
export const VectorStoreListQuery = z.strictObject({
  after: z.string().optional(),
  before: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: ListOrder.default('desc'),
})
export type VectorStoreListQuery = z.output<typeof VectorStoreListQuery>

export const VECTOR_STORE_FILE_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'] as const
export type VectorStoreFileStatus = (typeof VECTOR_STORE_FILE_STATUSES)[number]

export const VectorStoreFileListQuery = VectorStoreListQuery.extend({
  filter: z.enum(VECTOR_STORE_FILE_STATUSES).optional(),
})
export type VectorStoreFileListQuery = z.output<typeof VectorStoreFileListQuery>

export const VectorStoreFileCreateParams = z.strictObject({
  file_id: z.string(),
  chunking_strategy: ChunkingStrategyParam.optional(),
  attributes: Attributes.nullish(),
})
export type VectorStoreFileCreateParams = z.output<typeof VectorStoreFileCreateParams>

export const VectorStoreFileUpdateParams = z.strictObject({
  attributes: Attributes.nullable(),
})
export type VectorStoreFileUpdateParams = z.output<typeof VectorStoreFileUpdateParams>

/**
 * CreateVectorStoreFileBatchRequest: `file_ids` (the spec), or `files` with per-file attributes
 * and chunking (what newer SDKs send); one of the two.
 */
export const FileBatchCreateParams = z.strictObject({
  file_ids: z.array(z.string()).min(1).max(500).optional(),
  files: z
    .array(
      z.strictObject({
        file_id: z.string(),
        chunking_strategy: ChunkingStrategyParam.optional(),
        attributes: Attributes.nullish(),
      }),
    )
    .min(1)
    .max(500)
    .optional(),
  chunking_strategy: ChunkingStrategyParam.optional(),
  attributes: Attributes.nullish(),
})
export type FileBatchCreateParams = z.output<typeof FileBatchCreateParams>

const FilterScalar = z.union([z.string(), z.number(), z.boolean()], expected('one of a string, a number or a boolean'))

/** ComparisonFilter: `in` and `nin` take an array (newer SDKs; the spec's six take a scalar). */
export const ComparisonFilter = z.strictObject({
  type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']),
  key: z.string().min(1).max(64),
  value: z.union(
    [FilterScalar, z.array(z.union([z.string(), z.number()])).max(100)],
    expected('one of a string, a number, a boolean or an array'),
  ),
})
export type ComparisonFilter = z.output<typeof ComparisonFilter>
export type CompoundFilter = { type: 'and' | 'or'; filters: Filter[] }
export type Filter = ComparisonFilter | CompoundFilter

/** How deep compound filters may nest: deeper is no real query, and the SQL would grow with it. */
export const MAX_FILTER_DEPTH = 8

export const CompoundFilter: z.ZodType<CompoundFilter> = z.strictObject({
  type: z.enum(['and', 'or']),
  filters: z
    .array(z.lazy(() => Filter))
    .min(1)
    .max(64),
})

export const Filter: z.ZodType<Filter> = z.union(
  [ComparisonFilter, CompoundFilter],
  expected('one of a comparison filter or a compound filter'),
)

export const RANKERS = ['auto', 'default-2024-11-15'] as const

export const VectorStoreSearchParams = z.strictObject({
  query: z.union(
    [z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(10)],
    expected('one of a string or an array of strings'),
  ),
  rewrite_query: z.boolean().optional(),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: Filter.optional(),
  ranking_options: z
    .strictObject({
      ranker: z.enum(RANKERS).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
})
export type VectorStoreSearchParams = z.output<typeof VectorStoreSearchParams>

export type FileCounts = {
  in_progress: number
  completed: number
  failed: number
  cancelled: number
  total: number
}

export type VectorStore = {
  id: string
  object: 'vector_store'
  created_at: number
  name: string
  description?: string
  usage_bytes: number
  file_counts: FileCounts
  status: 'expired' | 'in_progress' | 'completed'
  expires_after?: ExpiresAfter
  expires_at: number | null
  last_active_at: number | null
  metadata: Record<string, string> | null
}

export type LastError = { code: 'server_error' | 'unsupported_file' | 'invalid_file'; message: string }

export type VectorStoreFile = {
  id: string
  object: 'vector_store.file'
  usage_bytes: number
  created_at: number
  vector_store_id: string
  status: VectorStoreFileStatus
  last_error: LastError | null
  chunking_strategy?: StaticChunking | { type: 'other' }
  attributes: Attributes | null
}

export type VectorStoreFileBatch = {
  id: string
  object: 'vector_store.files_batch'
  created_at: number
  vector_store_id: string
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed'
  file_counts: FileCounts
}

export type VectorStoreFileContent = {
  object: 'vector_store.file_content.page'
  data: { type: 'text'; text: string }[]
  has_more: boolean
  next_page: string | null
}

export type VectorStoreSearchResult = {
  file_id: string
  filename: string
  score: number
  attributes: Attributes | null
  content: { type: 'text'; text: string }[]
}

export type VectorStoreSearchPage = {
  object: 'vector_store.search_results.page'
  search_query: string[]
  data: VectorStoreSearchResult[]
  has_more: boolean
  next_page: string | null
}
