import type { Batch, BatchError } from '../../schemas/batches.js'
import type { BatchRow, BatchStatus } from '../../storage/repositories/batches.js'

/** The job kind that moves a batch through its statuses (registered by jobs/batch-run.ts). */
export const BATCH_JOB = 'batch.run'
export type BatchJobPayload = { batchId: string; projectId: string }

/** OpenAI's only completion window, in seconds. */
export const COMPLETION_WINDOW_SECONDS = 24 * 3600

export const FINISHED: BatchStatus[] = ['completed', 'failed', 'expired', 'cancelled']

const TIMESTAMPS = [
  'in_progress_at',
  'finalizing_at',
  'completed_at',
  'failed_at',
  'expired_at',
  'cancelling_at',
  'cancelled_at',
] as const

export function toBatchObject(row: BatchRow): Batch {
  const batch: Batch = {
    id: row.id,
    object: 'batch',
    endpoint: row.endpoint,
    input_file_id: row.input_file_id,
    completion_window: row.completion_window,
    status: row.status,
    created_at: row.created_at,
    expires_at: row.expires_at,
    request_counts: {
      total: row.request_total,
      completed: row.request_completed,
      failed: row.request_failed,
    },
    metadata: row.metadata === null ? null : JSON.parse(row.metadata),
    usage: {
      input_tokens: Number(row.usage_input_tokens),
      input_tokens_details: { cached_tokens: Number(row.usage_cached_tokens) },
      output_tokens: Number(row.usage_output_tokens),
      // the usage records keep no reasoning tokens apart
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: Number(row.usage_input_tokens) + Number(row.usage_output_tokens),
    },
  }
  if (row.errors !== null)
    batch.errors = { object: 'list', data: JSON.parse(row.errors) as BatchError[] }
  if (row.model !== null) batch.model = row.model
  if (row.output_file_id !== null) batch.output_file_id = row.output_file_id
  if (row.error_file_id !== null) batch.error_file_id = row.error_file_id
  for (const name of TIMESTAMPS) if (row[name] !== null) batch[name] = row[name]
  return batch
}

