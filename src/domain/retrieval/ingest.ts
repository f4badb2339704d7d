import type { Config } from '../../config/schema.js'
import { jobLog } from '../../logger.js'
import type { LastError } from '../../schemas/vector-stores.js'
import type { BlobStore } from '../../storage/blobs/blob-store.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { VectorStoreFileRow } from '../../storage/repositories/vector-stores.js'
import type { Storage } from '../../storage/storage.js'
import { chunkBytes, type ChunkInsert, type VectorIndex } from '../../storage/vector-index/vector-index.js'
import { fileKey } from '../files/file-object.js'
import { unpack, type Chunking, type TextChunk } from './chunking.js'
import type { Embedder } from './embedder.js'
import type { Extractor } from './extractor.js'
import type { IngestPayload } from './objects.js'

export type IngestDeps = {
  storage: Storage
  blobs: BlobStore
  index: VectorIndex
  embedder: Embedder
  extractor: Extractor
  limits: Config['vectorStores']
}

export type IngestOptions = {
  signal: AbortSignal
  /** no retry follows this run: a failure ends the file failed (server_error) */
  lastAttempt: boolean
}

/**
 * The `vector_store.file.ingest` job: one file of a store, from its bytes to indexed chunks.
 * The bytes are read and cut into chunks in the extraction worker; chunks are embedded and written
 * `embedBatchSize` at a time, each batch in a transaction that first checks the file is still in
 * progress. It may run again after a crash: chunks already written are skipped (and the index
 * keeps one row per attachment and position), so none is indexed twice. A file that cannot be
 * read ends `failed` with OpenAI's last_error; other failures are retried, then fail the file.
 */
export class Ingestion {
  constructor(private readonly deps: IngestDeps) {}

  async run(payload: IngestPayload, options: IngestOptions): Promise<void> {
    const { storage } = this.deps
    const repos = createRepos(storage.db)
    const attachment = await repos.vectorStoreFiles.byId(payload.attachmentId)
    if (!attachment || attachment.status !== 'in_progress') return
    const store = await repos.vectorStores.get(payload.projectId, payload.storeId)
    if (!store) return
    const log = jobLog.child({ vector_store: store.id, file: attachment.file_id })
    try {
      const chunks = await this.chunksOf(attachment, options.signal)
      if ('error' in chunks) return await this.fail(attachment, chunks.error)
      await this.index(attachment, store.embedding_model, chunks.chunks, options.signal)
      const done = await repos.vectorStoreFiles.transition(attachment.id, ['in_progress'], {
        status: 'completed',
        chunk_count: chunks.chunks.length,
      })
      if (done) log.info({ chunks: chunks.chunks.length }, 'vector store file indexed')
    } catch (error) {
      if (options.signal.aborted || !options.lastAttempt) throw error
      log.error({ err: error }, 'vector store file failed for good')
      await this.fail(attachment, { code: 'server_error', message: `The file could not be indexed: ${(error as Error).message}` })
    }
  }

  private async chunksOf(attachment: VectorStoreFileRow, signal: AbortSignal): Promise<{ chunks: TextChunk[] } | { error: LastError }> {
    const { storage, blobs, extractor, limits } = this.deps
    const file = await createRepos(storage.db).files.get(attachment.project_id, attachment.file_id, nowSeconds())
    if (!file) return { error: { code: 'invalid_file', message: `The file ${attachment.file_id} no longer exists.` } }
    if (file.bytes > limits.maxFileBytes) {
      return {
        error: {
          code: 'invalid_file',
          message: `The file ${file.id} is too large (${file.bytes} bytes); file search takes files of at most ${limits.maxFileBytes} bytes.`,
        },
      }
    }
    if (file.bytes === 0) return { error: { code: 'invalid_file', message: `The file ${file.id} is empty.` } }
    // one buffer of the file's size, filled as the blob streams in (no whole-file copy on the
    // event loop), then moved to the worker
    let bytes = new Uint8Array(file.bytes)
    try {
      let offset = 0
      for await (const part of await blobs.read(fileKey(file.id))) {
        if (offset + part.byteLength > bytes.byteLength) throw new Error(`file ${file.id} holds more bytes than its ${file.bytes}`)
        bytes.set(part, offset)
        offset += part.byteLength
      }
      if (offset < bytes.byteLength) bytes = bytes.slice(0, offset)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { error: { code: 'invalid_file', message: `The file ${attachment.file_id} no longer exists.` } }
      }
      throw error
    }
    signal.throwIfAborted()
    const chunking = JSON.parse(attachment.chunking) as Chunking
    const result = await extractor.run(bytes, file.filename, chunking, limits.maxFileTokens)
    if ('error' in result) {
      if (result.error.code === 'server_error') throw new Error(result.error.message)
      return { error: result.error as LastError }
    }
    return { chunks: unpack(result.packed) }
  }

  /** Embeds and writes the chunks not written yet, a batch per transaction. */
  private async index(attachment: VectorStoreFileRow, model: string, chunks: TextChunk[], signal: AbortSignal) {
    const { storage, index, embedder, limits } = this.deps
    const done = await index.indexed(storage.db, attachment.id)
    const todo = chunks.map((chunk, i) => ({ ...chunk, index: i })).filter((c) => !done.has(c.index))
    for (let start = 0; start < todo.length; start += limits.embedBatchSize) {
      signal.throwIfAborted()
      const batch = todo.slice(start, start + limits.embedBatchSize)
      const { vectors } = await embedder.embed(model, batch.map((c) => c.text), signal)
      const rows: ChunkInsert[] = batch.map((c, i) => ({
        storeId: attachment.vector_store_id,
        attachmentId: attachment.id,
        index: c.index,
        text: c.text,
        tokens: c.tokens,
        embedding: vectors[i],
      }))
      const going = await storage.transaction(async (tx) => {
        const repos = createRepos(tx.db)
        // removed, cancelled or failed meanwhile: write nothing more (the purge takes what is there)
        const current = await repos.vectorStoreFiles.lock(attachment.id)
        if (current?.status !== 'in_progress') return false
        const added = new Set(await index.insert(tx.db, rows))
        const bytes = rows
          .filter((r) => added.has(r.index))
          .reduce((sum, r) => sum + chunkBytes(r.text, r.embedding.length), 0)
        await repos.vectorStoreFiles.update(attachment.id, { chunk_count: chunks.length })
        await repos.vectorStoreFiles.addUsage(attachment.id, bytes)
        return true
      })
      if (!going) return
    }
  }

  /** The file ends failed with `error`; its chunks so far are purged. */
  private async fail(attachment: VectorStoreFileRow, error: LastError) {
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const moved = await repos.vectorStoreFiles.transition(attachment.id, ['in_progress'], {
        status: 'failed',
        last_error: JSON.stringify(error),
        usage_bytes: 0,
      })
      if (moved) await enqueuePurge(repos, attachment.vector_store_id, attachment.id)
    })
  }
}

export function enqueuePurge(repos: ReturnType<typeof createRepos>, storeId: string, attachmentId?: string) {
  return repos.jobs.enqueue('vector_store.purge', { storeId, ...(attachmentId ? { attachmentId } : {}) })
}
