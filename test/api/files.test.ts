import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSeconds } from '../../src/storage/ids.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'
import { otherProjectClient } from '../helpers/other-project.js'

let t: TestApp
let client: OpenAI
let scratch: string
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-files-'))
})
afterAll(async () => {
  await t.close()
  fs.rmSync(scratch, { recursive: true, force: true })
})

/** Every byte value, so that nothing is decoded or re-encoded on the way. */
const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256))

function writeScratch(name: string, bytes: Buffer | string): string {
  const file = path.join(scratch, name)
  fs.writeFileSync(file, bytes)
  return file
}

function blobPath(id: string) {
  return path.join(t.ctx.config.dataDir, 'blobs', 'files', id)
}

/** This process's file descriptors open on `file` (Linux's /proc; 0 elsewhere). */
function openDescriptors(file: string): number {
  if (!fs.existsSync('/proc/self/fd')) return 0
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file
    } catch {
      return false
    }
  }).length
}

function tempBlobs() {
  return fs.readdirSync(path.join(t.ctx.config.dataDir, 'blobs', '.tmp'))
}

describe('files: upload, retrieve, download, delete', () => {
  it('uploads a stream (fs.createReadStream) and answers the File object', async () => {
    const file = writeScratch('train.jsonl', '{"prompt":"a"}\n{"prompt":"b"}\n')
    const before = nowSeconds()
    const created = await client.files.create({
      file: fs.createReadStream(file),
      purpose: 'fine-tune',
    })
    expect(created).toEqual({
      id: expect.stringMatching(/^file-[A-Za-z0-9]{20,}$/),
      object: 'file',
      bytes: 30,
      created_at: expect.any(Number),
      filename: 'train.jsonl',
      purpose: 'fine-tune',
      status: 'processed',
    })
    expect(created.created_at).toBeGreaterThanOrEqual(before)
    expect(await client.files.retrieve(created.id)).toEqual(created)
  })

  it('streams the bytes back unchanged, with length, type and a download name', async () => {
    const created = await client.files.create({
      file: await toFile(BINARY, 'blob.bin'),
      purpose: 'user_data',
    })
    expect(created.bytes).toBe(BINARY.length)
    const response = await client.files.content(created.id)
    expect(response.headers.get('content-type')).toBe('application/octet-stream')
    expect(response.headers.get('content-length')).toBe(String(BINARY.length))
    expect(response.headers.get('content-disposition')).toContain('filename="blob.bin"')
    expect(Buffer.from(await response.arrayBuffer()).equals(BINARY)).toBe(true)
  })

  it('serves a known type from the extension or the declared type; JSONL as bytes, as OpenAI does', async () => {
    const text = await client.files.create({
      file: await toFile(Buffer.from('hello'), 'notes.txt'),
      purpose: 'assistants',
    })
    expect((await client.files.content(text.id)).headers.get('content-type')).toBe('text/plain')
    const png = await client.files.create({
      file: await toFile(Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'picture', { type: 'image/png' }),
      purpose: 'vision',
    })
    expect((await client.files.content(png.id)).headers.get('content-type')).toBe('image/png')
    const batch = await client.files.create({
      file: await toFile(Buffer.from('{}\n'), 'in.jsonl'),
      purpose: 'batch',
    })
    expect((await client.files.content(batch.id)).headers.get('content-type')).toBe(
      'application/octet-stream',
    )
  })

  it('answers a byte range with 206, so a download can resume', async () => {
    const created = await client.files.create({
      file: await toFile(BINARY, 'range.bin'),
      purpose: 'user_data',
    })
    const response = await client.files.content(created.id, { headers: { range: 'bytes=100-199' } })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe(`bytes 100-199/${BINARY.length}`)
    expect(Buffer.from(await response.arrayBuffer()).equals(BINARY.subarray(100, 200))).toBe(true)
    const tail = await client.files.content(created.id, { headers: { range: 'bytes=-10' } })
    expect(Buffer.from(await tail.arrayBuffer()).equals(BINARY.subarray(-10))).toBe(true)
    const refused = await client.files
      .content(created.id, { headers: { range: 'bytes=5000-' } })
      .catch((error: InstanceType<typeof OpenAI.APIError>) => error)
    expect(refused).toMatchObject({ status: 416 })
    expect((refused as InstanceType<typeof OpenAI.APIError>).headers?.get('content-range')).toBe(
      `bytes */${BINARY.length}`,
    )
    // ranges that merge into one are that one; ranges that stay apart get the whole body
    const merged = await client.files.content(created.id, { headers: { range: 'bytes=0-9,10-19' } })
    expect(merged.status).toBe(206)
    expect(merged.headers.get('content-range')).toBe(`bytes 0-19/${BINARY.length}`)
    expect(Buffer.from(await merged.arrayBuffer()).equals(BINARY.subarray(0, 20))).toBe(true)
    const apart = await client.files.content(created.id, { headers: { range: 'bytes=0-9,20-29' } })
    expect(apart.status).toBe(200)
    expect(Buffer.from(await apart.arrayBuffer()).equals(BINARY)).toBe(true)
  })

  it('answers HEAD with the headers of a download and leaves no file open', async () => {
    const created = await client.files.create({ file: await toFile(BINARY, 'head.bin'), purpose: 'user_data' })
    for (let i = 0; i < 10; i++) {
      const response = await t.fetch(`${t.url}/v1/files/${created.id}/content`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${PROJECT_KEY}`, ...(i % 2 ? { range: 'bytes=0-9' } : {}) },
      })
      expect(response.status).toBe(i % 2 ? 206 : 200)
      expect(response.headers.get('content-length')).toBe(i % 2 ? '10' : String(BINARY.length))
      expect(response.headers.get('content-disposition')).toContain('filename="head.bin"')
      expect(await response.text()).toBe('')
    }
    // the server runs in this process: a HEAD's file stayed open until garbage collection
    expect(openDescriptors(blobPath(created.id))).toBe(0)
  })

  it('accepts every purpose the spec lists for uploads', async () => {
    for (const purpose of [
      'assistants',
      'batch',
      'fine-tune',
      'vision',
      'user_data',
      'evals',
    ] as const) {
      const created = await client.files.create({
        file: await toFile(Buffer.from('{}\n'), `p-${purpose}.jsonl`),
        purpose,
      })
      expect(created.purpose).toBe(purpose)
    }
  })

  it('sets expires_at from expires_after, and an expired file is gone', async () => {
    const created = await client.files.create({
      file: await toFile(Buffer.from('short-lived'), 'brief.txt'),
      purpose: 'assistants',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    })
    expect(created.expires_at).toBe(created.created_at + 3600)
    // an hour passes
    await t.ctx.storage.db
      .updateTable('files')
      .set({ expires_at: nowSeconds() - 1 })
      .where('id', '=', created.id)
      .execute()
    await expect(client.files.retrieve(created.id)).rejects.toMatchObject({ status: 404 })
    await expect(client.files.content(created.id)).rejects.toMatchObject({ status: 404 })
    expect((await client.files.list()).data.map((f) => f.id)).not.toContain(created.id)
    // the sweep removes the row and the bytes
    expect(fs.existsSync(blobPath(created.id))).toBe(true)
    const report = await t.ctx.services.files.sweepExpired()
    expect(report.files).toBeGreaterThanOrEqual(1)
    expect(fs.existsSync(blobPath(created.id))).toBe(false)
  })

  it('deletes the file and its bytes; afterwards every call is a 404 with F1', async () => {
    const created = await client.files.create({
      file: await toFile(Buffer.from('bye'), 'bye.txt'),
      purpose: 'assistants',
    })
    expect(fs.existsSync(blobPath(created.id))).toBe(true)
    expect(await client.files.delete(created.id)).toEqual({
      id: created.id,
      object: 'file',
      deleted: true,
    })
    expect(fs.existsSync(blobPath(created.id))).toBe(false)
    for (const call of [
      () => client.files.retrieve(created.id),
      () => client.files.content(created.id),
      () => client.files.delete(created.id),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 404,
        error: {
          message: `No such File object: ${created.id}`,
          type: 'invalid_request_error',
          param: 'id',
          code: null,
        },
      })
    }
  })
})

describe('files: list', () => {
  let ids: string[]
  let t2: TestApp
  let c2: OpenAI
  beforeAll(async () => {
    t2 = await createTestApp()
    c2 = t2.client()
    ids = []
    for (let i = 0; i < 5; i++) {
      const purpose = i % 2 ? 'assistants' : 'batch'
      ids.push(
        (
          await c2.files.create({
            file: await toFile(Buffer.from(`{"n":${i}}\n`), `f${i}.jsonl`),
            purpose,
          })
        ).id,
      )
    }
  })
  afterAll(async () => t2.close())

  it('lists newest first by default, with the page fields', async () => {
    const page = await c2.files.list()
    expect(page.data.map((f) => f.id)).toEqual([...ids].reverse())
    const response = await t2.fetch('http://plinth.test/v1/files', {
      headers: { authorization: `Bearer ${PROJECT_KEY}` },
    })
    expect(await response.json()).toMatchObject({
      object: 'list',
      has_more: false,
      first_id: ids[4],
      last_id: ids[0],
    })
  })

  it('filters by purpose and orders ascending', async () => {
    const batch = await c2.files.list({ purpose: 'batch', order: 'asc' })
    expect(batch.data.map((f) => f.id)).toEqual([ids[0], ids[2], ids[4]])
  })

  it('pages with limit and after; the SDK walks every page', async () => {
    const first = await c2.files.list({ limit: 2 })
    expect(first.data.map((f) => f.id)).toEqual([ids[4], ids[3]])
    expect(first.has_more).toBe(true)
    const second = await c2.files.list({ limit: 2, after: ids[3] })
    expect(second.data.map((f) => f.id)).toEqual([ids[2], ids[1]])
    const all: string[] = []
    for await (const file of c2.files.list({ limit: 2, order: 'asc' })) all.push(file.id)
    expect(all).toEqual(ids)
  })

  it('refuses a limit outside 1-10,000', async () => {
    await expect(c2.files.list({ limit: 0 })).rejects.toMatchObject({
      status: 400,
      error: { param: 'limit' },
    })
    await expect(c2.files.list({ limit: 10001 })).rejects.toMatchObject({
      status: 400,
      error: { param: 'limit' },
    })
  })
})

describe('files: scoped to their project', () => {
  it("another project's key sees none of them: 404 (F1) and an empty list", async () => {
    const created = await client.files.create({
      file: await toFile(Buffer.from('mine'), 'mine.txt'),
      purpose: 'assistants',
    })
    const other = await otherProjectClient(t)
    for (const call of [
      () => other.files.retrieve(created.id),
      () => other.files.content(created.id),
      () => other.files.delete(created.id),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 404,
        error: { message: `No such File object: ${created.id}` },
      })
    }
    expect((await other.files.list()).data).toEqual([])
    // still there for its owner
    expect((await client.files.retrieve(created.id)).id).toBe(created.id)
  })

  it('an admin key gets 403 on every files route', async () => {
    const admin = t.client(ADMIN_KEY)
    await expect(admin.files.list()).rejects.toMatchObject({ status: 403 })
    await expect(
      admin.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'assistants' }),
    ).rejects.toMatchObject({ status: 403 })
    await expect(admin.files.retrieve('file-abc')).rejects.toMatchObject({ status: 403 })
  })
})
