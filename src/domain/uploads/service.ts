import {
  notFound,
  uploadChecksumMismatch,
  uploadFull,
  uploadNotPending,
  uploadRepeatedPart,
  uploadSizeMismatch,
  uploadUnknownPart,
} from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type {
  Upload,
  UploadCompleteParams,
  UploadCreateParams,
  UploadPart,
} from '../../schemas/uploads.js'
import type { BlobStore } from '../../storage/blobs/blob-store.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UploadPartRow, UploadRow } from '../../storage/repositories/uploads.js'
import type { Storage } from '../../storage/storage.js'
import {
  checkFileFormat,
  type FilesService,
  type NewFile,
  type StagedBlob,
} from '../files/service.js'
import { expireUpload, isExpired, partKey, removeParts } from './parts.js'
import { toUploadObject, toUploadPartObject } from './upload-object.js'

type Action = Parameters<typeof uploadNotPending>[0]

/**
 * Uploads: a File sent in parts. Parts are blobs under the upload's prefix; completing streams
 * them, in the order given, into one new blob that becomes the File. Uploads expire an hour
 * (uploadTtlSeconds) after creation; cancelled, expired and completed uploads lose their parts.
 */
export class UploadsService {
  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    private readonly files: FilesService,
  ) {}

  // spec: createUpload
  async create(principal: ProjectPrincipal, params: UploadCreateParams): Promise<Upload> {
    checkFileFormat(params.filename, params.purpose)
    const now = nowSeconds()
    const row: UploadRow = {
      id: newId('upload_'),
      project_id: principal.projectId,
      filename: params.filename,
      purpose: params.purpose,
      bytes: params.bytes,
      mime_type: params.mime_type,
      status: 'pending',
      created_at: now,
      expires_at: now + this.files.limits.uploadTtlSeconds,
      file_expires_after: params.expires_after?.seconds ?? null,
      file_id: null,
    }
    await createRepos(this.storage.db).uploads.insert(row)
    return toUploadObject(row)
  }

  /** Fails as adding a part would, before any of the part's bytes are read. */
  async checkPending(principal: ProjectPrincipal, uploadId: string): Promise<void> {
    await this.pending(principal, uploadId, 'add parts to')
  }

  /** Parts are streamed by the api into a staged blob first, as files are. */
  stagePart(data: AsyncIterable<Uint8Array>): Promise<StagedBlob> {
    return this.files.stage(data)
  }

  discardPart(staged: StagedBlob): Promise<void> {
    return this.files.discard(staged)
  }

  // spec: addUploadPart
  async addPart(
    principal: ProjectPrincipal,
    uploadId: string,
    staged: StagedBlob,
  ): Promise<UploadPart> {
    await this.pending(principal, uploadId, 'add parts to')
    const part: UploadPartRow = {
      id: newId('part_'),
      upload_id: uploadId,
      bytes: staged.bytes,
      created_at: nowSeconds(),
    }
    const key = partKey(uploadId, part.id)
    await this.blobs.commit(staged, key)
    try {
      await this.storage.transaction(async (tx) => {
        const repos = createRepos(tx.db)
        // the lock orders this against a concurrent cancel or complete, and against other parts
        // for the size check
        if (!(await repos.uploads.lockPending(principal.projectId, uploadId))) {
          const now = await repos.uploads.get(principal.projectId, uploadId)
          throw uploadNotPending('add parts to', uploadId, now?.status ?? 'cancelled')
        }
        const max = this.files.limits.maxUploadBytes
        if ((await repos.uploads.partBytes(uploadId)) + part.bytes > max)
          throw uploadFull(uploadId, max)
        await repos.uploads.insertPart(part)
      })
    } catch (error) {
      await this.blobs.delete(key)
      throw error
    }
    return toUploadPartObject(part)
  }

  // spec: completeUpload
  async complete(
    principal: ProjectPrincipal,
    uploadId: string,
    params: UploadCompleteParams,
  ): Promise<Upload> {
    const upload = await this.pending(principal, uploadId, 'complete')
    const parts = await this.orderedParts(upload, params.part_ids)
    const data = this.concatenate(uploadId, parts)
    const staged = await this.files
      .stage(data, { md5: params.md5 !== undefined })
      .catch(async (error) => {
        // the parts went away under us: the upload was completed, cancelled or expired meanwhile
        const now = await createRepos(this.storage.db).uploads.get(principal.projectId, uploadId)
        if (now && now.status !== 'pending')
          throw uploadNotPending('complete', uploadId, now.status)
        throw error
      })
    try {
      if (staged.bytes !== upload.bytes)
        throw uploadSizeMismatch(uploadId, upload.bytes, staged.bytes)
      if (params.md5 !== undefined && params.md5.toLowerCase() !== staged.md5) {
        throw uploadChecksumMismatch(params.md5, staged.md5!)
      }
      const file = await this.files.commit(
        principal.projectId,
        {
          filename: upload.filename,
          purpose: upload.purpose as NewFile['purpose'],
          mimeType: upload.mime_type,
          expiresAfterSeconds: upload.file_expires_after,
        },
        staged,
        async (tx, fileId) => {
          if (
            !(await createRepos(tx.db).uploads.finish(
              principal.projectId,
              uploadId,
              'completed',
              fileId,
            ))
          ) {
            const now = await createRepos(tx.db).uploads.get(principal.projectId, uploadId)
            throw uploadNotPending('complete', uploadId, now?.status ?? 'cancelled')
          }
        },
      )
      await removeParts(this.storage, this.blobs, uploadId)
      return toUploadObject({ ...upload, status: 'completed', file_id: file.id }, file)
    } finally {
      await this.files.discard(staged)
    }
  }

  // spec: cancelUpload
  async cancel(principal: ProjectPrincipal, uploadId: string): Promise<Upload> {
    const upload = await this.find(principal, uploadId)
    // cancelling twice answers the cancelled upload again, as cancelling a cancelled batch does
    if (upload.status === 'cancelled') return toUploadObject(upload)
    if (upload.status !== 'pending') throw uploadNotPending('cancel', uploadId, upload.status)
    if (
      !(await createRepos(this.storage.db).uploads.finish(
        principal.projectId,
        uploadId,
        'cancelled',
      ))
    ) {
      return this.cancel(principal, uploadId)
    }
    await removeParts(this.storage, this.blobs, uploadId)
    return toUploadObject({ ...upload, status: 'cancelled' })
  }

  /** The upload, expired on the spot if its time is up (the sweep may not have run yet). */
  private async find(principal: ProjectPrincipal, uploadId: string): Promise<UploadRow> {
    const upload = await createRepos(this.storage.db).uploads.get(principal.projectId, uploadId)
    if (!upload) throw notFound('upload', uploadId)
    if (isExpired(upload, nowSeconds())) return expireUpload(this.storage, this.blobs, upload)
    return upload
  }

  private async pending(
    principal: ProjectPrincipal,
    uploadId: string,
    action: Action,
  ): Promise<UploadRow> {
    const upload = await this.find(principal, uploadId)
    if (upload.status !== 'pending') throw uploadNotPending(action, uploadId, upload.status)
    return upload
  }

  private async orderedParts(upload: UploadRow, partIds: string[]): Promise<UploadPartRow[]> {
    const byId = new Map(
      (await createRepos(this.storage.db).uploads.parts(upload.id)).map((p) => [p.id, p]),
    )
    const seen = new Set<string>()
    const parts = partIds.map((id) => {
      if (seen.has(id)) throw uploadRepeatedPart(id)
      seen.add(id)
      const part = byId.get(id)
      if (!part) throw uploadUnknownPart(id, upload.id)
      return part
    })
    const total = parts.reduce((n, p) => n + p.bytes, 0)
    if (total !== upload.bytes) throw uploadSizeMismatch(upload.id, upload.bytes, total)
    return parts
  }

  private async *concatenate(uploadId: string, parts: UploadPartRow[]): AsyncIterable<Uint8Array> {
    for (const part of parts) yield* await this.blobs.read(partKey(uploadId, part.id))
  }
}
