import type { FileObject } from '../../schemas/files.js'
import type { Upload, UploadPart } from '../../schemas/uploads.js'
import type { UploadPartRow, UploadRow } from '../../storage/repositories/uploads.js'

/** The Upload object; `file` only once completed (the spec's example of a pending one has none). */
export function toUploadObject(row: UploadRow, file?: FileObject): Upload {
  return {
    id: row.id,
    object: 'upload',
    bytes: row.bytes,
    created_at: row.created_at,
    expires_at: row.expires_at,
    filename: row.filename,
    purpose: row.purpose,
    status: row.status,
    ...(file ? { file } : {}),
  }
}

export function toUploadPartObject(row: UploadPartRow): UploadPart {
  return { id: row.id, object: 'upload.part', created_at: row.created_at, upload_id: row.upload_id }
}
