import type { Config } from '../../config/schema.js'
import { fileNotFound, invalidFileFormat } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type {
  FileDeleted,
  FileListQuery,
  FileObject,
  FilePurpose,
  OutputFilePurpose,
} from '../../schemas/files.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import type { BlobStore, ByteRange, TempBlob } from '../../storage/blobs/blob-store.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { contentDisposition, downloadContentType } from './content-type.js'
import { fileKey, toFileObject } from './file-object.js'
import { sweepExpired, type SweepReport } from './sweep.js'

export type FileLimits = Config['files']

/** Bytes written to a temporary blob, waiting for `create` (or an upload part) to commit them. */
export type StagedBlob = TempBlob

export type NewFile = {
  filename: string
  purpose: FilePurpose | OutputFilePurpose
  /** The type the client declared for the bytes, if any. */
  mimeType?: string | null
  /** `expires_after.seconds`: the file is gone this long after its creation. */
  expiresAfterSeconds?: number | null
}

export type FileContent = {
  file: FileObject
  contentType: string
  disposition: string
  /** Opens the bytes, or the inclusive range of them. */
  open(range?: ByteRange): Promise<AsyncIterable<Uint8Array>>
}

/**
 * Files of a project: bytes in the blob store, metadata in SQL. A file becomes visible only once
 * its bytes are committed, so a File is never served half-written (see `commit`).
 */
export class FilesService {
  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    readonly limits: FileLimits,
  ) {}

  /** Streams bytes into a temporary blob; nothing is visible until it is committed. */
  stage(data: AsyncIterable<Uint8Array>, options: { md5?: boolean } = {}): Promise<StagedBlob> {
    return this.blobs.writeTemp(data, options)
  }

  /** Drops a staged blob; a no-op once it was committed. */
  discard(staged: StagedBlob): Promise<void> {
    return this.blobs.discard(staged)
  }

  // spec: createFile
  async create(
    principal: ProjectPrincipal,
    file: NewFile,
    staged: StagedBlob,
  ): Promise<FileObject> {
    checkFileFormat(file.filename, file.purpose)
    return this.commit(principal.projectId, file, staged)
  }

  /**
   * A file Plinth writes itself (batch output, fine-tuning results): bytes in, File out.
   * `onReady` runs in the transaction that makes the File visible (see `commit`).
   */
  async createFromStream(
    projectId: string,
    file: NewFile,
    data: AsyncIterable<Uint8Array>,
    onReady?: (tx: Storage, fileId: string) => Promise<void>,
  ): Promise<FileObject> {
    const staged = await this.stage(data)
    try {
      return await this.commit(projectId, file, staged, onReady)
    } finally {
      await this.discard(staged)
    }
  }

  /**
   * Makes a staged blob a File, in three steps that a crash can interrupt anywhere without a
   * File ever pointing at missing or partial bytes: (1) a `pending` row, invisible to clients;
   * (2) the blob moved under its key; (3) the row made `ready`, together with whatever else must
   * happen atomically with it (`onReady`: an upload becoming completed). A crash leaves a pending
   * row, which the sweep removes along with its blob.
   */
  async commit(
    projectId: string,
    file: NewFile,
    staged: StagedBlob,
    onReady?: (tx: Storage, fileId: string) => Promise<void>,
  ): Promise<FileObject> {
    const now = nowSeconds()
    const row = {
      id: newId('file-'),
      project_id: projectId,
      bytes: staged.bytes,
      created_at: now,
      expires_at: file.expiresAfterSeconds ? now + file.expiresAfterSeconds : null,
      filename: file.filename,
      purpose: file.purpose,
      status: 'processed',
      status_details: null,
      mime_type: file.mimeType ?? null,
      state: 'pending' as const,
    }
    const repos = createRepos(this.storage.db)
    await repos.files.insert(row)
    try {
      await this.blobs.commit(staged, fileKey(row.id))
      await this.storage.transaction(async (tx) => {
        // false only if the sweep took the row for a dead write (staleWriteSeconds is too short)
        if (!(await createRepos(tx.db).files.markReady(projectId, row.id)))
          throw new Error(`file ${row.id} was swept while being written`)
        await onReady?.(tx, row.id)
      })
    } catch (error) {
      await this.blobs.delete(fileKey(row.id))
      await repos.files.delete(projectId, row.id)
      throw error
    }
    return toFileObject({ ...row, state: 'ready' })
  }

  // spec: listFiles
  async list(principal: ProjectPrincipal, query: FileListQuery): Promise<ListPage<FileObject>> {
    const rows = await createRepos(this.storage.db).files.list(
      principal.projectId,
      query,
      nowSeconds(),
    )
    return toPage(rows.slice(0, query.limit).map(toFileObject), rows.length > query.limit)
  }

  // spec: retrieveFile
  async get(principal: ProjectPrincipal, id: string): Promise<FileObject> {
    return toFileObject(await this.row(principal.projectId, id))
  }

  // spec: deleteFile
  async delete(principal: ProjectPrincipal, id: string): Promise<FileDeleted> {
    const repos = createRepos(this.storage.db)
    await this.row(principal.projectId, id)
    // hidden first, then bytes, then row: a crash in between leaves a pending row for the sweep,
    // never a visible File without its bytes
    if (!(await repos.files.hide(principal.projectId, id))) throw fileNotFound(id)
    await this.blobs.delete(fileKey(id))
    await repos.files.delete(principal.projectId, id)
    return { id, object: 'file', deleted: true }
  }

  /** A file of the project, or undefined (not there, expired): for the services that use files. */
  async find(projectId: string, id: string): Promise<FileObject | undefined> {
    const row = await createRepos(this.storage.db).files.get(projectId, id, nowSeconds())
    return row ? toFileObject(row) : undefined
  }

  /** A file's bytes, whole (the code interpreter places files in its sandbox). */
  async bytes(projectId: string, id: string): Promise<Buffer> {
    await this.row(projectId, id)
    const chunks: Uint8Array[] = []
    for await (const chunk of await this.blobs.read(fileKey(id))) chunks.push(chunk)
    return Buffer.concat(chunks)
  }

  // spec: downloadFile
  async content(principal: ProjectPrincipal, id: string): Promise<FileContent> {
    const row = await this.row(principal.projectId, id)
    return {
      file: toFileObject(row),
      contentType: downloadContentType(row.filename, row.mime_type),
      disposition: contentDisposition(row.filename),
      open: async (range) => {
        try {
          return await this.blobs.read(fileKey(id), range)
        } catch (error) {
          // deleted between the lookup and the read
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw fileNotFound(id)
          throw error
        }
      },
    }
  }

  /**
   * Removes what has expired or was left by a crash: expired files (rows and bytes), expired
   * uploads' parts, pending rows and temporary blobs of writes that died. Clients never see
   * expired objects even before this runs (reads check the expiry); the job runner calls this
   * periodically, and it runs once at startup.
   */
  sweepExpired(now = nowSeconds()): Promise<SweepReport> {
    return sweepExpired(this.storage, this.blobs, this.limits, now)
  }

  private async row(projectId: string, id: string) {
    const row = await createRepos(this.storage.db).files.get(projectId, id, nowSeconds())
    if (!row) throw fileNotFound(id)
    return row
  }
}

/** F5: the Batch and Fine-tuning APIs take JSONL only. */
export function checkFileFormat(filename: string, purpose: NewFile['purpose']) {
  const jsonl = filename.toLowerCase().endsWith('.jsonl')
  if (purpose === 'batch' && !jsonl) throw invalidFileFormat('Batch')
  if (purpose === 'fine-tune' && !jsonl) throw invalidFileFormat('Fine-Tuning')
}
