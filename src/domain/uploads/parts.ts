import type { BlobStore } from '../../storage/blobs/blob-store.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UploadRow } from '../../storage/repositories/uploads.js'
import type { Storage } from '../../storage/storage.js'

/** Every part of an upload lives under one prefix, so that removing them is one call. */
export function partsPrefix(uploadId: string): string {
  return `uploads/${uploadId}`
}

export function partKey(uploadId: string, partId: string): string {
  return `${partsPrefix(uploadId)}/${partId}`
}

/**
 * Bytes first, rows last: a crash in between leaves rows of a finished upload, which the sweep
 * finds and finishes removing. (Blobs without rows, from a part whose request died after its
 * commit, are under the same prefix and go with it.)
 */
export async function removeParts(
  storage: Storage,
  blobs: BlobStore,
  uploadId: string,
): Promise<void> {
  await blobs.deletePrefix(partsPrefix(uploadId))
  await createRepos(storage.db).uploads.deleteParts(uploadId)
}

/** A pending upload past its expiry becomes `expired` and loses its parts. */
export async function expireUpload(
  storage: Storage,
  blobs: BlobStore,
  upload: UploadRow,
): Promise<UploadRow> {
  await createRepos(storage.db).uploads.finish(upload.project_id, upload.id, 'expired')
  await removeParts(storage, blobs, upload.id)
  const current = await createRepos(storage.db).uploads.get(upload.project_id, upload.id)
  return current ?? { ...upload, status: 'expired' }
}

export function isExpired(upload: UploadRow, now: number): boolean {
  return upload.status === 'pending' && upload.expires_at <= now
}
