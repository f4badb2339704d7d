import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp, { type FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { BlobStore, ByteRange, TempBlob } from './blob-store.js'

const TEMP_DIR = '.tmp'
// Network reads arrive in 16-64 KiB pieces; gathering them into ~1 MiB writes keeps the number of
// syscalls (and thread-pool round trips) low, while bounding what is held in memory per upload.
const WRITE_BATCH_BYTES = 1 << 20
const READ_CHUNK_BYTES = 256 * 1024
// Keys are made by the server (`files/file-...`), but a key must never climb out of the root.
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/

// A temporary blob's name says who writes it: the host (hashed) and the process id. Several
// nodes may share the volume, so a temporary blob is only known to be a crash's leftover when its
// writer is gone: a process of this host that no longer runs, or an earlier process with this
// very id (a container's server restarts as pid 1), told by a last write before this one began.
// Those go at once; the others once idle for the stale-write time.
const HOST = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)
const WRITER = `${HOST}-${process.pid.toString(36)}`

/** Blobs as plain files under a root directory (`<dataDir>/blobs`), temporaries in `.tmp/`. */
export class DiskBlobStore implements BlobStore {
  private constructor(readonly root: string) {}

  static async open(root: string): Promise<DiskBlobStore> {
    await fsp.mkdir(path.join(root, TEMP_DIR), { recursive: true })
    return new DiskBlobStore(path.resolve(root))
  }

  async writeTemp(
    source: AsyncIterable<Uint8Array>,
    options: { md5?: boolean } = {},
  ): Promise<TempBlob> {
    const name = `${WRITER}-${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`
    const file = this.tempPath(name)
    const handle = await fsp.open(file, 'wx')
    const hash = options.md5 ? createHash('md5') : undefined
    let bytes = 0
    let batch: Uint8Array[] = []
    let batchBytes = 0
    // one write in flight while the next batch is gathered: reading and writing overlap
    let writing: Promise<void> = Promise.resolve()
    const flush = async () => {
      await writing
      writing = writeAll(handle, batch)
      writing.catch(() => {}) // awaited below; this only keeps it from counting as unhandled
      batch = []
      batchBytes = 0
    }
    try {
      for await (const chunk of source) {
        hash?.update(chunk)
        bytes += chunk.byteLength
        batch.push(chunk)
        batchBytes += chunk.byteLength
        if (batchBytes >= WRITE_BATCH_BYTES) await flush()
      }
      if (batch.length) await flush()
      await writing
      // durable before it can be committed: a File row never points at bytes still in the cache
      await handle.sync()
      await handle.close()
    } catch (error) {
      await writing.catch(() => {})
      await handle.close().catch(() => {})
      await fsp.rm(file, { force: true })
      throw error
    }
    return { name, bytes, ...(hash ? { md5: hash.digest('hex') } : {}) }
  }

  async commit(temp: TempBlob, key: string): Promise<void> {
    const target = this.keyPath(key)
    const dir = path.dirname(target)
    await fsp.mkdir(dir, { recursive: true })
    await fsp.rename(this.tempPath(temp.name), target)
    await syncDirectory(dir)
  }

  async discard(temp: TempBlob): Promise<void> {
    await fsp.rm(this.tempPath(temp.name), { force: true })
  }

  async read(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>> {
    // open first, so that a missing blob fails here and not after a response has started
    const handle = await fsp.open(this.keyPath(key), 'r')
    return fs.createReadStream('', {
      fd: handle,
      highWaterMark: READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
    })
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.keyPath(key))).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.keyPath(key), { force: true })
  }

  async deletePrefix(prefix: string): Promise<void> {
    await fsp.rm(this.keyPath(prefix), { recursive: true, force: true })
  }

  async sweepTemp(olderThanMs: number): Promise<number> {
    const dir = path.join(this.root, TEMP_DIR)
    const cutoff = Date.now() - olderThanMs
    let removed = 0
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name)
      const stat = await fsp.stat(file).catch(() => undefined)
      if (stat && (stat.mtimeMs <= cutoff || writerGone(name, stat.mtimeMs))) {
        await fsp.rm(file, { force: true, recursive: true })
        removed++
      }
    }
    return removed
  }

  private tempPath(name: string): string {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`invalid temporary blob name: ${name}`)
    return path.join(this.root, TEMP_DIR, name)
  }

  private keyPath(key: string): string {
    if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..'))
      throw new Error(`invalid blob key: ${key}`)
    return path.join(this.root, key)
  }
}

/** Whether a temporary blob was written by a process of this host that is no longer running. */
function writerGone(name: string, lastWriteMs: number): boolean {
  const [host, pid36, ...rest] = name.split('-')
  // another host's, or one named before writers were (`<time>-<random>`): only idle time tells
  if (host !== HOST || rest.length !== 2) return false
  const pid = parseInt(pid36, 36)
  // this process's own (from any of its threads) were written after it started
  if (pid === process.pid) return lastWriteMs < Date.now() - process.uptime() * 1000
  try {
    process.kill(pid, 0) // signal 0: only asks whether the process exists
    return false
  } catch (error) {
    // EPERM: it exists, under another user
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[]): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.byteLength, 0)
  const { bytesWritten } = await handle.writev(buffers)
  // a short write on a regular file is rare (a full disk reports ENOSPC instead), but possible
  if (bytesWritten < total) {
    const rest = Buffer.concat(buffers).subarray(bytesWritten)
    let offset = 0
    while (offset < rest.length) offset += (await handle.write(rest, offset)).bytesWritten
  }
}

/** A rename is durable only once the directory entry is: fsync the directory too. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
