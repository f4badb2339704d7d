import { z } from 'zod'
import { FILE_PURPOSES, FileExpiresAfter, type FileObject } from './files.js'

/** CreateUploadRequest; the largest `bytes` is configured (OpenAI's is 8 GB). */
export function uploadCreateParams(maxBytes: number) {
  return z.strictObject({
    filename: z.string().min(1),
    // the spec lists four purposes here, the SDK all six of files; a superset serves both
    purpose: z.enum(FILE_PURPOSES),
    bytes: z.number().int().min(0).max(maxBytes),
    mime_type: z.string().min(1),
    expires_after: FileExpiresAfter.optional(),
  })
}
export type UploadCreateParams = z.output<ReturnType<typeof uploadCreateParams>>

export const UploadCompleteParams = z.strictObject({
  part_ids: z.array(z.string()),
  md5: z.string().optional(),
})
export type UploadCompleteParams = z.output<typeof UploadCompleteParams>

export type Upload = {
  id: string
  object: 'upload'
  bytes: number
  created_at: number
  expires_at: number
  filename: string
  purpose: string
  status: 'pending' | 'completed' | 'cancelled' | 'expired'
  /** The File made from the upload, once it is completed. */
  file?: FileObject
}

export type UploadPart = {
  id: string
  object: 'upload.part'
  created_at: number
  upload_id: string
}
