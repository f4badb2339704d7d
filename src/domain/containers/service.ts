import { Readable } from 'node:stream'
import { containerExpired, containerFileNotFound, containerNotFound, fileNotFound, invalidContainerFileName } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import { validFileName, type Sandbox, type SandboxFile, type SandboxSession } from '../../sandbox/index.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import type { BlobStore, ByteRange, TempBlob } from '../../storage/blobs/blob-store.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { ContainerFileRow, ContainerListQuery, ContainerRow } from '../../storage/repositories/containers.js'
import type { Storage } from '../../storage/storage.js'
import { contentDisposition, downloadContentType } from '../files/content-type.js'
import { fileKey } from '../files/file-object.js'
import type { FilesService } from '../files/service.js'
import type { CodeContainers, SavedContainerFile } from '../tools/code-containers.js'
import { toContainerFileObject, toContainerObject, type ContainerFileObject, type ContainerObject } from './objects.js'

export type ContainerCreate = {
  name: string
  file_ids?: string[]
  expires_after?: { anchor: 'last_active_at'; minutes: number }
  memory_limit?: '1g' | '4g' | '16g' | '64g'
}

export type ContainersConfig = {
  /** expires_after.minutes when none is given */
  minutes: number
  /** how long one of those minutes lasts (tests shorten it) */
  minuteMs: number
  /** /mnt/data's size: a file larger is not placed in the sandbox */
  maxPlacedBytes: number
}

export type ContainerFileContent = { file: ContainerFileObject; contentType: string; disposition: string; open(range?: ByteRange): Promise<AsyncIterable<Uint8Array>> }

const DATA = '/mnt/data/'

/**
 * Containers (docs/code-interpreter.md, "Containers"): a code interpreter session keyed by the
 * container id, with files of its own kept as blobs (`containers/<id>/<file id>`), so they
 * outlive the sandbox process and are placed in it again after a restart. A container expires
 * after `expires_after.minutes` without use; from then on it refuses use and its files are gone.
 */
export class ContainersService implements CodeContainers {
  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    private readonly files: Pick<FilesService, 'find' | 'stage' | 'discard'>,
    private readonly sandbox: Sandbox,
    private readonly config: ContainersConfig,
  ) {}

  async create(principal: ProjectPrincipal, params: ContainerCreate): Promise<ContainerObject> {
    const fileIds = [...new Set(params.file_ids ?? [])]
    // every file is checked before anything is made
    const sources = []
    for (const id of fileIds) {
      const file = await this.files.find(principal.projectId, id)
      if (!file) throw fileNotFound(id)
      sources.push(file)
    }
    const now = nowSeconds()
    const row: ContainerRow = {
      id: newId('cntr_'),
      project_id: principal.projectId,
      name: params.name,
      created_at: now,
      last_active_at: now,
      expires_after_minutes: params.expires_after?.minutes ?? this.config.minutes,
      memory_limit: params.memory_limit ?? '1g',
    }
    await createRepos(this.storage.db).containers.insert(row)
    for (const file of sources) await this.copyFile(row, file.id, baseName(file.filename))
    return toContainerObject(row, this.status(row))
  }

  async list(principal: ProjectPrincipal, query: ContainerListQuery): Promise<ListPage<ContainerObject>> {
    const rows = await createRepos(this.storage.db).containers.list(principal.projectId, query)
    return toPage(rows.slice(0, query.limit).map((row) => toContainerObject(row, this.status(row))), rows.length > query.limit)
  }

  async get(principal: ProjectPrincipal, id: string): Promise<ContainerObject> {
    const row = await this.row(principal.projectId, id)
    return toContainerObject(row, this.status(row))
  }

  async delete(principal: ProjectPrincipal, id: string) {
    await this.row(principal.projectId, id)
    await createRepos(this.storage.db).containers.delete(principal.projectId, id)
    await this.blobs.deletePrefix(`containers/${id}`)
    await this.sandbox.end?.(id)
    return { id, object: 'container.deleted' as const, deleted: true as const }
  }

  /** A file uploaded to the container (multipart): its bytes staged already. */
  async addUpload(principal: ProjectPrincipal, containerId: string, filename: string, staged: TempBlob): Promise<ContainerFileObject> {
    const container = await this.usable(principal.projectId, containerId)
    const name = baseName(filename)
    if (!validFileName(name)) throw invalidContainerFileName(name)
    const row = await this.write(container, `${DATA}${name}`, 'user', staged)
    await createRepos(this.storage.db).containers.touch(container.project_id, container.id, nowSeconds())
    return toContainerFileObject(row)
  }

  /** A File of the project copied into the container (JSON `{file_id}`). */
  async addFile(principal: ProjectPrincipal, containerId: string, fileId: string): Promise<ContainerFileObject> {
    const container = await this.usable(principal.projectId, containerId)
    const file = await this.files.find(principal.projectId, fileId)
    if (!file) throw fileNotFound(fileId)
    const row = await this.copyFile(container, fileId, baseName(file.filename))
    await createRepos(this.storage.db).containers.touch(container.project_id, container.id, nowSeconds())
    return toContainerFileObject(row)
  }

  async listFiles(principal: ProjectPrincipal, containerId: string, query: ContainerListQuery): Promise<ListPage<ContainerFileObject>> {
    const container = await this.usable(principal.projectId, containerId)
    const rows = await createRepos(this.storage.db).containers.listFiles(container.project_id, container.id, query)
    return toPage(rows.slice(0, query.limit).map(toContainerFileObject), rows.length > query.limit)
  }

  async getFile(principal: ProjectPrincipal, containerId: string, fileId: string): Promise<ContainerFileObject> {
    return toContainerFileObject(await this.fileRow(principal.projectId, containerId, fileId))
  }

  async fileContent(principal: ProjectPrincipal, containerId: string, fileId: string): Promise<ContainerFileContent> {
    const row = await this.fileRow(principal.projectId, containerId, fileId)
    const name = row.path.slice(row.path.lastIndexOf('/') + 1)
    return {
      file: toContainerFileObject(row),
      contentType: downloadContentType(name, null),
      disposition: contentDisposition(name),
      open: async (range) => {
        try {
          return await this.blobs.read(blobKey(containerId, fileId), range)
        } catch (error) {
          // deleted between the lookup and the read
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw containerFileNotFound(fileId, containerId)
          throw error
        }
      },
    }
  }

  async deleteFile(principal: ProjectPrincipal, containerId: string, fileId: string) {
    await this.fileRow(principal.projectId, containerId, fileId)
    await createRepos(this.storage.db).containers.deleteFile(principal.projectId, containerId, fileId)
    await this.blobs.delete(blobKey(containerId, fileId))
    return { id: fileId, object: 'container.file.deleted' as const, deleted: true as const }
  }

  // --- the code interpreter's side (CodeContainers) ---

  /**
   * Before a call runs in the container: it must be the project's and not expired; an auto
   * container (a response's own) is made on first use, with its `file_ids`. Use is activity.
   */
  async open(projectId: string, id: string, auto: { fileIds: readonly string[] } | null): Promise<void> {
    const repos = createRepos(this.storage.db)
    if (auto && !(await repos.containers.get(projectId, id))) {
      const now = nowSeconds()
      const row: ContainerRow = { id, project_id: projectId, name: `Container for ${id}`, created_at: now, last_active_at: now, expires_after_minutes: this.config.minutes, memory_limit: '1g' }
      if (await repos.containers.insertIfAbsent(row)) {
        for (const fileId of new Set(auto.fileIds)) {
          const file = await this.files.find(projectId, fileId)
          if (file) await this.copyFile(row, fileId, baseName(file.filename))
        }
      }
    }
    await this.usable(projectId, id)
    await repos.containers.touch(projectId, id, nowSeconds())
  }

  /** Refuses a container that cannot be used (a Responses request naming it): 404 or expired. */
  async check(projectId: string, id: string): Promise<void> {
    await this.usable(projectId, id)
  }

  /** Places the container's files in its session: only those the process does not hold yet. */
  async place(projectId: string, id: string, session: SandboxSession): Promise<string[]> {
    const notes: string[] = []
    const rows = await createRepos(this.storage.db).containers.allFiles(projectId, id)
    for (const row of rows) {
      const name = row.path.slice(DATA.length)
      // a file the code wrote in a subdirectory stays downloadable; a fresh process lacks it
      if (!validFileName(name)) continue
      if (row.bytes > this.config.maxPlacedBytes) {
        notes.push(`[${row.path} is not available: larger than ${this.config.maxPlacedBytes} bytes]`)
        continue
      }
      try {
        await session.putFile(name, () => this.readAll(blobKey(id, row.id)), row.version)
      } catch (error) {
        notes.push(`[${row.path} is not available: ${(error as Error).message}]`)
      }
    }
    return notes
  }

  /** What a call wrote in /mnt/data becomes the container's files (source `assistant`). */
  async save(projectId: string, id: string, files: readonly SandboxFile[], session: SandboxSession): Promise<SavedContainerFile[]> {
    const container = await this.row(projectId, id)
    const saved: SavedContainerFile[] = []
    for (const file of files) {
      const staged = await this.files.stage(Readable.from([file.bytes]))
      let row: ContainerFileRow
      try {
        row = await this.write(container, file.path, 'assistant', staged)
      } finally {
        await this.files.discard(staged)
      }
      // the process has these bytes already: the next placement sends nothing
      session.markPlaced?.(file.name, row.version)
      saved.push({ containerId: id, fileId: row.id, path: file.path, name: file.name, kind: file.kind })
    }
    return saved
  }

  /**
   * The files of containers that expired unread (reads clean up what they find expired): their
   * rows, their bytes and this node's session. The leader runs it every few minutes.
   */
  async sweep(): Promise<number> {
    const repos = createRepos(this.storage.db).containers
    const expired = await repos.expiredWithFiles(nowSeconds(), Math.ceil(this.config.minuteMs / 1000), 500)
    for (const row of expired) await this.forget(row.project_id, row.id)
    return expired.length
  }

  /** Expired once idle past its minutes; `last_active_at` is in seconds, so whole seconds are compared. */
  private status(row: ContainerRow): 'running' | 'expired' {
    const idleSeconds = Math.ceil((row.expires_after_minutes * this.config.minuteMs) / 1000)
    return nowSeconds() > Number(row.last_active_at) + idleSeconds ? 'expired' : 'running'
  }

  private async row(projectId: string, id: string): Promise<ContainerRow> {
    const row = await createRepos(this.storage.db).containers.get(projectId, id)
    if (!row) throw containerNotFound(id)
    return row
  }

  /** The container, if it may be used: an expired one refuses, its files and session gone. */
  private async usable(projectId: string, id: string): Promise<ContainerRow> {
    const row = await this.row(projectId, id)
    if (this.status(row) === 'expired') {
      await this.forget(projectId, id)
      throw containerExpired()
    }
    return row
  }

  /** An expired container keeps its row (listed as expired) but loses its files and session. */
  private async forget(projectId: string, id: string) {
    await createRepos(this.storage.db).containers.deleteFiles(projectId, id)
    await this.blobs.deletePrefix(`containers/${id}`)
    await this.sandbox.end?.(id)
  }

  private async fileRow(projectId: string, containerId: string, fileId: string): Promise<ContainerFileRow> {
    await this.usable(projectId, containerId)
    const row = await createRepos(this.storage.db).containers.file(projectId, containerId, fileId)
    if (!row) throw containerFileNotFound(fileId, containerId)
    return row
  }

  /**
   * Commits staged bytes as the file at `path`: a new file, or new bytes for the path's file
   * (its id stays). The blob is committed before the row says so, so a row never names bytes
   * that are not there.
   */
  private async write(container: ContainerRow, path: string, source: 'user' | 'assistant', staged: TempBlob): Promise<ContainerFileRow> {
    const repos = createRepos(this.storage.db).containers
    const existing = await repos.fileAt(container.id, path)
    const version = newId('v')
    if (existing) {
      await this.blobs.commit(staged, blobKey(container.id, existing.id))
      const fields = { bytes: staged.bytes, source, version }
      await repos.replaceFile(existing.id, fields)
      return { ...existing, ...fields }
    }
    const row: ContainerFileRow = { id: newId('cfile_'), container_id: container.id, project_id: container.project_id, path, bytes: staged.bytes, source, created_at: nowSeconds(), version }
    await this.blobs.commit(staged, blobKey(container.id, row.id))
    try {
      await repos.insertFile(row)
    } catch (error) {
      // two writes of one new path at once: the other row won, this one's bytes go
      await this.blobs.delete(blobKey(container.id, row.id))
      const winner = await repos.fileAt(container.id, path)
      if (!winner) throw error
      return winner
    }
    return row
  }

  private async copyFile(container: ContainerRow, fileId: string, name: string): Promise<ContainerFileRow> {
    if (!validFileName(name)) throw invalidContainerFileName(name)
    const staged = await this.files.stage(await this.blobs.read(fileKey(fileId)))
    try {
      return await this.write(container, `${DATA}${name}`, 'user', staged)
    } finally {
      await this.files.discard(staged)
    }
  }

  private async readAll(key: string): Promise<Buffer> {
    const chunks: Uint8Array[] = []
    for await (const chunk of await this.blobs.read(key)) chunks.push(chunk)
    return Buffer.concat(chunks)
  }
}

function blobKey(containerId: string, fileId: string): string {
  return `containers/${containerId}/${fileId}`
}

/** An uploaded name's last segment: a client's `dir/x.csv` is placed as /mnt/data/x.csv. */
function baseName(filename: string): string {
  return filename.slice(filename.lastIndexOf('/') + 1) || 'file'
}
