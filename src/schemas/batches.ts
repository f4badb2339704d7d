import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { FileExpiresAfter } from './files.js'
import { Metadata } from './shared.js'

/**
 * Every endpoint the spec allows, in OpenAI's order (errors.md F6 lists them in this order), and
 * `/v1/moderations`, which newer OpenAI batches take too (the SDK's `BatchCreateParams`).
 */
export const BATCH_ENDPOINTS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/moderations',
] as const
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number]

export const BatchCreateParams = z.strictObject({
  input_file_id: z.string(),
  endpoint: z.enum(BATCH_ENDPOINTS),
  completion_window: z.enum(['24h']),
  metadata: Metadata.nullish(),
  /** newer than the spec (the SDK sends it): the lifetime of the output and error files */
  output_expires_after: FileExpiresAfter.optional(),
})
export type BatchCreateParams = z.output<typeof BatchCreateParams>

/** GET /v1/batches: newest first, 1-100 per page (default 20), no `order`. */
export const BatchListQuery = z.strictObject({
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
})
export type BatchListQuery = z.output<typeof BatchListQuery>

export type BatchError = {
  code: string
  message: string
  param: string | null
  line: number | null
}

/**
 * The Batch object. The spec's timestamps and file ids are non-nullable integers and strings, so
 * the ones a batch has not reached are left out rather than sent as null.
 */
export type Batch = {
  id: string
  object: 'batch'
  endpoint: string
  errors?: { object: 'list'; data: BatchError[] }
  input_file_id: string
  completion_window: string
  status: string
  output_file_id?: string
  error_file_id?: string
  created_at: number
  in_progress_at?: number
  expires_at?: number
  finalizing_at?: number
  completed_at?: number
  failed_at?: number
  expired_at?: number
  cancelling_at?: number
  cancelled_at?: number
  request_counts: { total: number; completed: number; failed: number }
  metadata: Record<string, string> | null
  /** newer than the spec: the model the lines name, once the input is validated */
  model?: string
  /** newer than the spec: the tokens of the lines run so far */
  usage: {
    input_tokens: number
    input_tokens_details: { cached_tokens: number }
    output_tokens: number
    output_tokens_details: { reasoning_tokens: number }
    total_tokens: number
  }
}

/** One line of a batch's output or error file (BatchRequestOutput). */
export type BatchOutputLine = {
  id: string
  custom_id: string
  response: { status_code: number; request_id: string; body: unknown } | null
  error: { code: string; message: string } | null
}
