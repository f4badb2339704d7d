import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSeconds } from '../../src/storage/ids.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

const PART_LIMIT = 4096
const UPLOAD_LIMIT = 10_000
let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp({ files: { maxPartBytes: PART_LIMIT, maxUploadBytes: UPLOAD_LIMIT } })
  client = t.client()
})
afterAll(async () => t.close())

const blobs = () => path.join(t.ctx.config.dataDir, 'blobs')
const partsDir = (uploadId: string) => path.join(blobs(), 'uploads', uploadId)
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex')

function create(bytes: number, over: Partial<OpenAI.Uploads.UploadCreateParams> = {}) {
  return client.uploads.create({
    bytes,
    filename: 'data.jsonl',
    mime_type: 'text/jsonl',
    purpose: 'batch',
    ...over,
  })
}

async function addPart(uploadId: string, bytes: Buffer) {
  return client.uploads.parts.create(uploadId, { data: await toFile(bytes, 'part') })
}

describe('uploads: create, add parts, complete', () => {
  it('creates a pending upload that expires in an hour', async () => {
    const upload = await create(10)
    expect(upload).toEqual({
      id: expect.stringMatching(/^upload_[A-Za-z0-9]{20,}$/),
      object: 'upload',
      bytes: 10,
      created_at: expect.any(Number),
      expires_at: upload.created_at + 3600,
      filename: 'data.jsonl',
      purpose: 'batch',
      status: 'pending',
    })
  })

  it('completes with the parts in the order given, and the upload becomes a File', async () => {
    const a = Buffer.from('{"n":1}\n')
    const b = Buffer.from('{"n":2}\n{"n":3}\n')
    const upload = await create(a.length + b.length)
    const partB = await addPart(upload.id, b)
    const partA = await addPart(upload.id, a)
    expect(partA).toEqual({
      id: expect.stringMatching(/^part_/),
      object: 'upload.part',
      created_at: expect.any(Number),
      upload_id: upload.id,
    })
    expect(fs.readdirSync(partsDir(upload.id))).toHaveLength(2)
    const expected = Buffer.concat([a, b])
    const done = await client.uploads.complete(upload.id, {
      part_ids: [partA.id, partB.id],
      md5: md5(expected),
    })
    expect(done).toMatchObject({ id: upload.id, status: 'completed', bytes: expected.length })
    expect(done.file).toEqual({
      id: expect.stringMatching(/^file-/),
      object: 'file',
      bytes: expected.length,
      created_at: expect.any(Number),
      filename: 'data.jsonl',
      purpose: 'batch',
      status: 'processed',
    })
    const content = Buffer.from(await (await client.files.content(done.file!.id)).arrayBuffer())
    expect(content.equals(expected)).toBe(true)
    expect(await client.files.retrieve(done.file!.id)).toEqual(done.file)
    // the parts are gone once the File holds the bytes
    expect(fs.existsSync(partsDir(upload.id))).toBe(false)
  })

  it('carries expires_after over to the File', async () => {
    const upload = await create(3, {
      purpose: 'assistants',
      filename: 'a.txt',
      mime_type: 'text/plain',
      expires_after: { anchor: 'created_at', seconds: 7200 },
    })
    const part = await addPart(upload.id, Buffer.from('abc'))
    const done = await client.uploads.complete(upload.id, { part_ids: [part.id] })
    expect(done.file!.expires_at).toBe(done.file!.created_at + 7200)
    expect((await client.files.content(done.file!.id)).headers.get('content-type')).toBe(
      'text/plain',
    )
  })

  it('accepts a part sent as a plain form field, as the spec example does with curl -F data=...', async () => {
    const upload = await create(5)
    const form = new FormData()
    form.append('data', 'hello')
    const response = await t.fetch(`http://plinth.test/v1/uploads/${upload.id}/parts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PROJECT_KEY}` },
      body: form,
    })
    expect(response.status).toBe(200)
    const part = (await response.json()) as { id: string }
    const done = await client.uploads.complete(upload.id, { part_ids: [part.id] })
    expect(await (await client.files.content(done.file!.id)).text()).toBe('hello')
  })

  it('refuses a completion whose parts do not add up, are unknown or repeated; the upload stays pending', async () => {
    const upload = await create(6)
    const p1 = await addPart(upload.id, Buffer.from('abc'))
    const p2 = await addPart(upload.id, Buffer.from('def'))
    await expect(client.uploads.complete(upload.id, { part_ids: [p1.id] })).rejects.toMatchObject({
      status: 400,
      error: {
        message: `The parts of upload ${upload.id} add up to 3 bytes, but the upload was created with bytes=6.`,
        param: 'part_ids',
      },
    })
    await expect(
      client.uploads.complete(upload.id, { part_ids: [p1.id, 'part_nope'] }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: `No part found with id 'part_nope' in upload ${upload.id}.` },
    })
    await expect(
      client.uploads.complete(upload.id, { part_ids: [p1.id, p1.id] }),
    ).rejects.toMatchObject({ status: 400 })
    const bad = await client.uploads
      .complete(upload.id, { part_ids: [p1.id, p2.id], md5: md5(Buffer.from('nope')) })
      .catch((e) => e)
    expect(bad).toMatchObject({ status: 400, error: { param: 'md5' } })
    expect(fs.readdirSync(path.join(blobs(), '.tmp'))).toEqual([])
    // nothing was made of it: complete again, right this time
    const done = await client.uploads.complete(upload.id, {
      part_ids: [p2.id, p1.id],
      md5: md5(Buffer.from('defabc')),
    })
    expect(await (await client.files.content(done.file!.id)).text()).toBe('defabc')
  })

  it('a completed upload takes no more parts and cannot be completed or cancelled again', async () => {
    const upload = await create(1)
    const part = await addPart(upload.id, Buffer.from('x'))
    await client.uploads.complete(upload.id, { part_ids: [part.id] })
    await expect(addPart(upload.id, Buffer.from('y'))).rejects.toMatchObject({
      status: 400,
      error: { message: `Cannot add parts to upload ${upload.id} with status 'completed'.` },
    })
    await expect(client.uploads.complete(upload.id, { part_ids: [part.id] })).rejects.toMatchObject(
      { status: 400 },
    )
    await expect(client.uploads.cancel(upload.id)).rejects.toMatchObject({
      status: 400,
      error: { message: `Cannot cancel upload ${upload.id} with status 'completed'.` },
    })
  })
  it('two completions at once make one File; the other is told the upload is completed', async () => {
    const upload = await create(6, { filename: 'raced.jsonl' })
    const ids = [
      (await addPart(upload.id, Buffer.from('abc'))).id,
      (await addPart(upload.id, Buffer.from('def'))).id,
    ]
    const results = await Promise.allSettled(
      [0, 1].map(() => client.uploads.complete(upload.id, { part_ids: ids })),
    )
    const done = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r) => r.status === 'rejected')
    expect(done).toHaveLength(1)
    expect(refused).toHaveLength(1)
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      status: 400,
      error: { message: `Cannot complete upload ${upload.id} with status 'completed'.` },
    })
    const files = (await client.files.list()).data.filter((f) => f.filename === 'raced.jsonl')
    expect(files).toHaveLength(1)
  })
})

describe('uploads: cancel and expiry remove the parts', () => {
  it('cancel: status cancelled, parts removed, nothing more accepted', async () => {
    const upload = await create(6)
    const part = await addPart(upload.id, Buffer.from('abc'))
    expect(fs.existsSync(partsDir(upload.id))).toBe(true)
    const cancelled = await client.uploads.cancel(upload.id)
    expect(cancelled).toMatchObject({ id: upload.id, status: 'cancelled' })
    expect(cancelled.file).toBeUndefined()
    expect(fs.existsSync(partsDir(upload.id))).toBe(false)
    await expect(addPart(upload.id, Buffer.from('def'))).rejects.toMatchObject({ status: 400 })
    await expect(client.uploads.complete(upload.id, { part_ids: [part.id] })).rejects.toMatchObject(
      {
        status: 400,
        error: { message: `Cannot complete upload ${upload.id} with status 'cancelled'.` },
      },
    )
    expect((await client.uploads.cancel(upload.id)).status).toBe('cancelled')
  })

  it('an upload past its hour is expired on the next call, and its parts removed', async () => {
    const upload = await create(6)
    await addPart(upload.id, Buffer.from('abc'))
    await t.ctx.storage.db
      .updateTable('uploads')
      .set({ expires_at: nowSeconds() - 1 })
      .where('id', '=', upload.id)
      .execute()
    await expect(addPart(upload.id, Buffer.from('def'))).rejects.toMatchObject({
      status: 400,
      error: { message: `Cannot add parts to upload ${upload.id} with status 'expired'.` },
    })
    expect(fs.existsSync(partsDir(upload.id))).toBe(false)
    await expect(client.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 400 })
  })

  it('sweepExpired expires pending uploads nobody touches again', async () => {
    const upload = await create(6)
    await addPart(upload.id, Buffer.from('abc'))
    await t.ctx.storage.db
      .updateTable('uploads')
      .set({ expires_at: nowSeconds() - 1 })
      .where('id', '=', upload.id)
      .execute()
    const report = await t.ctx.services.files.sweepExpired()
    expect(report.uploads).toBeGreaterThanOrEqual(1)
    expect(fs.existsSync(partsDir(upload.id))).toBe(false)
    const row = await t.ctx.storage.db
      .selectFrom('uploads')
      .select('status')
      .where('id', '=', upload.id)
      .executeTakeFirst()
    expect(row?.status).toBe('expired')
    const parts = await t.ctx.storage.db
      .selectFrom('upload_parts')
      .selectAll()
      .where('upload_id', '=', upload.id)
      .execute()
    expect(parts).toEqual([])
  })
})

describe('uploads: limits and bad input', () => {
  it('a part over the part limit is a 413 (F4), and leaves nothing behind', async () => {
    const upload = await create(PART_LIMIT + 1)
    await expect(addPart(upload.id, Buffer.alloc(PART_LIMIT + 1))).rejects.toMatchObject({
      status: 413,
      error: {
        message: `Maximum content size limit (${PART_LIMIT}) exceeded (${PART_LIMIT + 1} bytes read)`,
        type: 'server_error',
      },
    })
    expect(fs.existsSync(partsDir(upload.id))).toBe(false)
    expect(fs.readdirSync(path.join(blobs(), '.tmp'))).toEqual([])
  })

  it('parts may not add up to more than the upload maximum', async () => {
    const upload = await create(UPLOAD_LIMIT)
    for (let i = 0; i < 2; i++) await addPart(upload.id, Buffer.alloc(PART_LIMIT))
    await expect(addPart(upload.id, Buffer.alloc(PART_LIMIT))).rejects.toMatchObject({
      status: 400,
      error: { param: 'data' },
    })
    expect(fs.readdirSync(partsDir(upload.id))).toHaveLength(2)
  })

  it('checks the create parameters: size, purpose, JSONL for batch, required fields', async () => {
    await expect(create(UPLOAD_LIMIT + 1)).rejects.toMatchObject({
      status: 400,
      error: {
        message: `Invalid 'bytes': integer above maximum value. Expected a value <= ${UPLOAD_LIMIT}, but got ${UPLOAD_LIMIT + 1} instead.`,
        param: 'bytes',
        code: 'integer_above_max_value',
      },
    })
    await expect(create(1, { purpose: 'nope' as 'batch' })).rejects.toMatchObject({
      status: 400,
      error: { param: 'purpose', code: 'invalid_value' },
    })
    await expect(create(1, { filename: 'data.csv' })).rejects.toMatchObject({
      status: 400,
      error: { message: 'Invalid file format for Batch API. Must be .jsonl' },
    })
    await expect(
      client.uploads.create({
        bytes: 1,
        filename: 'a.jsonl',
        purpose: 'batch',
      } as OpenAI.Uploads.UploadCreateParams),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: "Missing required parameter: 'mime_type'.", param: 'mime_type' },
    })
  })

  it('a part without data, and unknown uploads', async () => {
    const upload = await create(1)
    const form = new FormData()
    form.append('other', 'x')
    const response = await t.fetch(`http://plinth.test/v1/uploads/${upload.id}/parts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PROJECT_KEY}` },
      body: form,
    })
    expect(response.status).toBe(400)
    await expect(addPart('upload_nope', Buffer.from('x'))).rejects.toMatchObject({
      status: 404,
      error: { message: "No upload found with id 'upload_nope'." },
    })
    await expect(client.uploads.complete('upload_nope', { part_ids: [] })).rejects.toMatchObject({
      status: 404,
    })
    await expect(client.uploads.cancel('upload_nope')).rejects.toMatchObject({ status: 404 })
  })
})

describe('uploads: scoped to their project', () => {
  it("another project's key gets 404 for your upload; an admin key gets 403", async () => {
    const upload = await create(3)
    const part = await addPart(upload.id, Buffer.from('abc'))
    const other = await otherProjectClient(t)
    await expect(
      other.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') }),
    ).rejects.toMatchObject({ status: 404 })
    await expect(other.uploads.complete(upload.id, { part_ids: [part.id] })).rejects.toMatchObject({
      status: 404,
    })
    await expect(other.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 404 })
    const admin = t.client(ADMIN_KEY)
    await expect(
      admin.uploads.create({
        bytes: 1,
        filename: 'a.jsonl',
        mime_type: 'text/jsonl',
        purpose: 'batch',
      }),
    ).rejects.toMatchObject({ status: 403 })
    await expect(admin.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 403 })
    // untouched for its owner, and the File it becomes is the owner's only
    const done = await client.uploads.complete(upload.id, { part_ids: [part.id] })
    await expect(other.files.retrieve(done.file!.id)).rejects.toMatchObject({ status: 404 })
  })
})
