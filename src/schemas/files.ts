import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { ListOrder } from './shared.js'

/** What a client may upload a file for (CreateFileRequest.purpose, in the spec's order). */
export const FILE_PURPOSES = [
  'assistants',
  'batch',
  'fine-tune',
  'vision',
  'user_data',
  'evals',
] as const
export type FilePurpose = (typeof FILE_PURPOSES)[number]

/** Purposes Plinth gives the files it writes itself (batch output, fine-tuning results...). */
export type OutputFilePurpose = 'assistants_output' | 'batch_output' | 'fine-tune-results'

/** `expires_after` of a file: from its creation, between an hour and 30 days. */
export const FileExpiresAfter = z.strictObject({
  anchor: z.enum(['created_at']),
  seconds: z.number().int().min(3600).max(2592000),
})

/**
 * The text fields of POST /v1/files once `purpose` is known good. The SDK sends
 * `expires_after[anchor]` and `expires_after[seconds]`; the api nests them before this runs.
 */
export const FileCreateFields = z.strictObject({
  purpose: z.enum(FILE_PURPOSES),
  expires_after: FileExpiresAfter.extend({
    seconds: queryInteger(z.number().int().min(3600).max(2592000)),
  }).optional(),
})

/** Query of GET /v1/files: the spec's limit is 1-10,000, default 10,000. */
export const FileListQuery = z.strictObject({
  purpose: z.string().optional(),
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(10000)).default(10000),
  order: ListOrder.default('desc'),
})
export type FileListQuery = z.output<typeof FileListQuery>

/** OpenAIFile. `expires_at` and `status_details` are left out when there is none. */
export type FileObject = {
  id: string
  object: 'file'
  bytes: number
  created_at: number
  expires_at?: number
  filename: string
  purpose: FilePurpose | OutputFilePurpose
  status: 'uploaded' | 'processed' | 'error'
  status_details?: string
}

export type FileDeleted = { id: string; object: 'file'; deleted: boolean }
