import { createHash, type Hash } from 'node:crypto'
import fs from 'node:fs'
import { fetch } from 'undici'

export type Progress = { received: number; total: number | undefined; resumedFrom: number }

export type DownloadOptions = {
  url: string
  /** The final path; the bytes go to `<dest>.part` until they are complete and checked. */
  dest: string
  headers?: Record<string, string>
  /** Expected sha256 (hex); a mismatch deletes the download and fails. */
  sha256?: string
  /** Attempts after a dropped connection, each resuming where the last stopped. */
  retries?: number
  retryDelayMs?: number
  signal?: AbortSignal
  onProgress?: (progress: Progress) => void
  /** Checks the first bytes before the file is kept (e.g. the GGUF magic). */
  checkHead?: (head: Buffer) => void
}

export class DownloadError extends Error {
  override name = 'DownloadError'
}

/**
 * Downloads `url` to `dest` so that no half file is ever at `dest`: bytes go to `<dest>.part`,
 * which a later run resumes with a Range request (as does a retry after a dropped connection);
 * once complete, the size, the sha256 and the head are checked, the file is synced to disk and
 * renamed into place in one step.
 */
export async function download(
  options: DownloadOptions,
): Promise<{ bytes: number; sha256: string }> {
  const part = `${options.dest}.part`
  const retries = options.retries ?? 5
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await fetchInto(part, options)
      return await finish(part, result, options)
    } catch (error) {
      if (error instanceof DownloadError || options.signal?.aborted || attempt >= retries)
        throw error
      await new Promise((resolve) =>
        setTimeout(resolve, (options.retryDelayMs ?? 1000) * 2 ** attempt),
      )
    }
  }
}

/** One attempt: resumes the part file where it ends. Throws on a dropped connection. */
async function fetchInto(
  part: string,
  options: DownloadOptions,
): Promise<{ total: number | undefined; hash: Hash; bytes: number }> {
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0
  const response = await fetch(options.url, {
    headers: { ...options.headers, ...(have ? { range: `bytes=${have}-` } : {}) },
    signal: options.signal,
  })
  if (response.status === 416 && have) {
    // the part file already holds every byte: the server has nothing after its end
    await response.body?.cancel()
    return { total: have, hash: await hashFile(part), bytes: have }
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel()
    const message = `${options.url} answered ${response.status} ${response.statusText}`
    // a server error or a rate limit may pass; a 404 or a 401 will not
    throw response.status >= 500 || response.status === 429
      ? new Error(message)
      : new DownloadError(message)
  }
  if (response.status === 200 && have) have = 0 // the server ignored the range: start over
  const hash = have ? await hashFile(part) : createHash('sha256')
  const length = Number(response.headers.get('content-length') ?? NaN)
  const total = Number.isFinite(length) ? have + length : undefined
  const out = fs.createWriteStream(part, { flags: have ? 'a' : 'w' })
  let bytes = have
  const report = () => options.onProgress?.({ received: bytes, total, resumedFrom: have })
  // the head is checked as soon as it has arrived, not after the whole file: a wrong URL that
  // serves a web page or another format fails within the first kilobytes
  let head: Buffer | undefined = options.checkHead && have < HEAD_BYTES ? readHead(part, have) : undefined
  try {
    report()
    for await (const chunk of response.body!) {
      const buffer = chunk as Uint8Array
      if (head) {
        head = Buffer.concat([head, buffer]).subarray(0, HEAD_BYTES)
        if (head.length === HEAD_BYTES) {
          await checkHeadOrDelete(head, part, options.checkHead!, out)
          head = undefined
        }
      }
      hash.update(buffer)
      bytes += buffer.length
      if (!out.write(buffer))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      report()
    }
  } finally {
    // a refused head destroyed the stream and deleted the file: nothing is left to flush
    if (!out.destroyed) {
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      )
    }
  }
  if (total !== undefined && bytes !== total)
    throw new Error(`connection closed after ${bytes} of ${total} bytes`)
  return { total, hash, bytes }
}

const HEAD_BYTES = 16

function readHead(part: string, have: number): Buffer {
  if (have === 0) return Buffer.alloc(0)
  const head = Buffer.alloc(have)
  const fd = fs.openSync(part, 'r')
  try {
    fs.readSync(fd, head, 0, have, 0)
  } finally {
    fs.closeSync(fd)
  }
  return head
}

async function checkHeadOrDelete(head: Buffer, part: string, check: (head: Buffer) => void, out: fs.WriteStream) {
  try {
    check(head)
  } catch (error) {
    // the stream opens its file asynchronously: deleted only once it is closed, or the open
    // that was still pending would make the file again
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()))
    out.destroy()
    await closed
    fs.rmSync(part, { force: true })
    throw new DownloadError(`${(error as Error).message}; the download was stopped and deleted`)
  }
}

async function finish(
  part: string,
  result: { hash: Hash; bytes: number },
  options: DownloadOptions,
) {
  const sha256 = result.hash.digest('hex')
  if (options.sha256 && sha256 !== options.sha256.toLowerCase()) {
    fs.rmSync(part, { force: true })
    throw new DownloadError(
      `sha256 mismatch: expected ${options.sha256.toLowerCase()}, got ${sha256}; the download was deleted`,
    )
  }
  if (options.checkHead) {
    const head = Buffer.alloc(Math.min(16, result.bytes))
    const fd = fs.openSync(part, 'r')
    try {
      fs.readSync(fd, head, 0, head.length, 0)
    } finally {
      fs.closeSync(fd)
    }
    try {
      options.checkHead(head)
    } catch (error) {
      fs.rmSync(part, { force: true })
      throw new DownloadError(`${(error as Error).message}; the download was deleted`)
    }
  }
  const fd = fs.openSync(part, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(part, options.dest)
  return { bytes: result.bytes, sha256 }
}

function hashFile(file: string): Promise<Hash> {
  const hash = createHash('sha256')
  return new Promise((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash))
  })
}
