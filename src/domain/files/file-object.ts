import type { FileObject } from '../../schemas/files.js'
import type { FileRow } from '../../storage/repositories/files.js'

/** The blob key of a file's bytes. */
export function fileKey(id: string): string {
  return `files/${id}`
}

export function toFileObject(row: FileRow): FileObject {
  return {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: row.created_at,
    ...(row.expires_at !== null ? { expires_at: row.expires_at } : {}),
    filename: row.filename,
    purpose: row.purpose as FileObject['purpose'],
    status: row.status as FileObject['status'],
    ...(row.status_details !== null ? { status_details: row.status_details } : {}),
  }
}
