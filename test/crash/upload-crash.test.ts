import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// Crash safety of Files and Uploads, with a real server process killed by SIGKILL in the middle
// of a write: after a restart, an upload can still be completed or has cleanly expired, and
// nothing half-written is ever served as a File.

const KEY = 'sk-proj-crash-test-000000000000000000000'
const MiB = 1024 * 1024
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

function newDataDir() {
  return servers.dataDir()
}

const tempDir = (dataDir: string) => path.join(dataDir, 'blobs', '.tmp')
const tempSizes = (dataDir: string) =>
  fs
    .readdirSync(tempDir(dataDir))
    .map((name) => fs.statSync(path.join(tempDir(dataDir), name)).size)

/** Deterministic bytes, different for each seed. */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += 4)
    out.writeUInt32LE(((i + 1) * 2654435761 + seed * 40503) >>> 0, i)
  return out
}

const BOUNDARY = 'crash-test-boundary'

/**
 * Starts a multipart request and sends only `sent` bytes of its file: the request stays open,
 * as if the client were slow, until the server dies under it.
 */
function hangingUpload(
  url: string,
  route: string,
  field: string,
  fields: Record<string, string>,
  data: Buffer,
  sent: number,
) {
  const head =
    Object.entries(fields)
      .map(
        ([name, value]) =>
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join('') +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="data.jsonl"\r\n\r\n`
  const request = http.request(`${url}${route}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    },
  })
  request.on('error', () => {}) // the server is about to be killed
  request.write(head)
  request.write(data.subarray(0, sent))
  return request
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const PART = 3 * MiB

describe('SIGKILL in the middle of an upload', () => {
  it('after a restart the upload can still be completed, and no half-written file is served', async () => {
    const dataDir = newDataDir()
    // the default stale-write time (15 minutes): the restart clears what the kill left at once,
    // because the process that wrote it is gone
    let server = await servers.start(dataDir)
    const parts = [bytes(PART, 1), bytes(PART, 2), bytes(PART, 3)]
    const whole = Buffer.concat(parts)
    const upload = await server.client.uploads.create({
      bytes: whole.length,
      filename: 'big.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    })
    const first = await server.client.uploads.parts.create(upload.id, {
      data: await toFile(parts[0], 'p0'),
    })

    // three writes in flight when the process dies: a part, a plain file upload, and a file
    // whose first bytes are not on the disk yet (a 0-byte temporary blob)
    const hanging = [
      hangingUpload(server.url, `/v1/uploads/${upload.id}/parts`, 'data', {}, parts[1], 2 * MiB),
      hangingUpload(server.url, '/v1/files', 'file', { purpose: 'batch' }, whole, 2 * MiB),
      hangingUpload(server.url, '/v1/files', 'file', { purpose: 'batch' }, whole, 100),
    ]
    await until(
      () =>
        tempSizes(dataDir).filter((size) => size >= MiB).length === 2 &&
        tempSizes(dataDir).length === 3,
      'the three writes to reach the disk',
    )
    await servers.kill(server)
    for (const request of hanging) request.destroy()
    expect(tempSizes(dataDir).sort((a, b) => a - b)[0]).toBe(0)
    expect(tempSizes(dataDir)).toHaveLength(3)

    server = await servers.start(dataDir)
    // the partial writes are gone, and neither became a File
    expect(tempSizes(dataDir)).toEqual([])
    expect((await server.client.files.list()).data).toEqual([])
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'uploads', upload.id))).toEqual([first.id])

    // the upload goes on where it was
    const second = await server.client.uploads.parts.create(upload.id, {
      data: await toFile(parts[1], 'p1'),
    })
    const third = await server.client.uploads.parts.create(upload.id, {
      data: await toFile(parts[2], 'p2'),
    })
    const md5 = createHash('md5').update(whole).digest('hex')
    const done = await server.client.uploads.complete(upload.id, {
      part_ids: [first.id, second.id, third.id],
      md5,
    })
    expect(done.status).toBe('completed')
    const content = Buffer.from(
      await (await server.client.files.content(done.file!.id)).arrayBuffer(),
    )
    expect(content.equals(whole)).toBe(true)
    await servers.kill(server)
  }, 120_000)

  it('a kill while completing leaves the upload pending and no File; completing again works', async () => {
    const dataDir = newDataDir()
    const env = { PLINTH_FILES_STALE_WRITE_SECONDS: '1' }
    const size = 24 * MiB
    const parts = [bytes(size, 4), bytes(size, 5)]
    const whole = Buffer.concat(parts)
    // the kill must land while the joined file is written; a fast disk may finish first, so the
    // scene is set up again (a few times at most) until it does
    for (let attempt = 1; ; attempt++) {
      let server = await servers.start(dataDir, env)
      const upload = await server.client.uploads.create({
        bytes: whole.length,
        filename: 'joined.jsonl',
        mime_type: 'text/jsonl',
        purpose: 'batch',
      })
      const ids: string[] = []
      for (const part of parts)
        ids.push(
          (await server.client.uploads.parts.create(upload.id, { data: await toFile(part, 'p') }))
            .id,
        )
      let answered = false
      const completing = server.client.uploads
        .complete(upload.id, { part_ids: ids })
        .then(() => (answered = true))
        .catch(() => {})
      await until(
        () => answered || tempSizes(dataDir).some((s) => s > 0),
        'the joined file to be written',
      )
      await servers.kill(server)
      await completing
      if (answered) {
        expect(attempt).toBeLessThan(4)
        continue
      }

      await new Promise((r) => setTimeout(r, 1100))
      server = await servers.start(dataDir, env)
      expect(tempSizes(dataDir)).toEqual([])
      // only the uploads that did complete are Files; the interrupted one is not
      expect((await server.client.files.list()).data).toHaveLength(attempt - 1)
      const done = await server.client.uploads.complete(upload.id, { part_ids: ids })
      const content = Buffer.from(
        await (await server.client.files.content(done.file!.id)).arrayBuffer(),
      )
      expect(content.equals(whole)).toBe(true)
      // and the bytes of the interrupted attempt are not left on disk either
      const onDisk = fs.readdirSync(path.join(dataDir, 'blobs', 'files'))
      expect(onDisk.length).toBe(attempt)
      await servers.kill(server)
      return
    }
  }, 180_000)

  it('an upload whose hour ran out while the server was down is cleanly expired on restart', async () => {
    const dataDir = newDataDir()
    const env = { PLINTH_FILES_STALE_WRITE_SECONDS: '1', PLINTH_UPLOAD_TTL_SECONDS: '2' }
    let server = await servers.start(dataDir, env)
    const parts = [bytes(PART, 6), bytes(PART, 7)]
    const upload = await server.client.uploads.create({
      bytes: 2 * PART,
      filename: 'late.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    })
    const first = await server.client.uploads.parts.create(upload.id, {
      data: await toFile(parts[0], 'p0'),
    })
    const hanging = hangingUpload(
      server.url,
      `/v1/uploads/${upload.id}/parts`,
      'data',
      {},
      parts[1],
      2 * MiB,
    )
    await until(() => tempSizes(dataDir).some((size) => size >= MiB), 'the part to reach the disk')
    await servers.kill(server)
    hanging.destroy()

    await new Promise((r) => setTimeout(r, 2100))
    server = await servers.start(dataDir, env)
    // the startup sweep expired it: parts and partial write removed
    expect(tempSizes(dataDir)).toEqual([])
    expect(fs.existsSync(path.join(dataDir, 'blobs', 'uploads', upload.id))).toBe(false)
    await expect(
      server.client.uploads.complete(upload.id, { part_ids: [first.id] }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: `Cannot complete upload ${upload.id} with status 'expired'.` },
    })
    expect((await server.client.files.list()).data).toEqual([])
    await servers.kill(server)
  }, 120_000)
})
