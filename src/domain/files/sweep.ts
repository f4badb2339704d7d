import type { BlobStore } from '../../storage/blobs/blob-store.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { expireUpload, removeParts } from '../uploads/parts.js'
import { fileKey } from './file-object.js'

export type SweepReport = {
  /** expired files removed (rows and bytes) */
  files: number
  /** files whose write (or delete) died half-way, removed */
  abandonedFiles: number
  /** uploads that expired, with their parts */
  uploads: number
  /** finished uploads whose parts were still there */
  leftoverParts: number
  /** temporary blobs of writes that died */
  tempBlobs: number
}

const BATCH = 200

/**
 * One pass over everything the Files and Uploads APIs leave to clean up. Idempotent and safe to
 * run on several nodes at once (every step tolerates another having done it first), so the job
 * runner may call it from any node; it works in batches and returns once nothing is left.
 */
export async function sweepExpired(
  storage: Storage,
  blobs: BlobStore,
  limits: { staleWriteSeconds: number },
  now: number,
): Promise<SweepReport> {
  const repos = createRepos(storage.db)
  const report: SweepReport = {
    files: 0,
    abandonedFiles: 0,
    uploads: 0,
    leftoverParts: 0,
    tempBlobs: 0,
  }

  const removeFile = async (row: { id: string; project_id: string }) => {
    await repos.files.hide(row.project_id, row.id)
    await blobs.delete(fileKey(row.id))
    await repos.files.delete(row.project_id, row.id)
  }
  report.files = await drain(() => repos.files.expired(now, BATCH), removeFile)
  report.abandonedFiles = await drain(
    () => repos.files.stalePending(now - limits.staleWriteSeconds, BATCH),
    removeFile,
  )
  report.uploads = await drain(
    () => repos.uploads.expiredPending(now, BATCH),
    (upload) => expireUpload(storage, blobs, upload),
  )
  report.leftoverParts = await drain(
    () => repos.uploads.finishedWithParts(BATCH),
    (upload) => removeParts(storage, blobs, upload.id),
  )
  report.tempBlobs = await blobs.sweepTemp(limits.staleWriteSeconds * 1000)
  return report
}

async function drain<T>(
  next: () => Promise<T[]>,
  handle: (item: T) => Promise<unknown>,
): Promise<number> {
  let count = 0
  for (;;) {
    const items = await next()
    for (const item of items) await handle(item)
    count += items.length
    if (items.length < BATCH) return count
  }
}
