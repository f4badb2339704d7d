import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Malformed and refused uploads, sent raw: every one is an OpenAI-shaped 4xx, and none leaves
// bytes behind (neither a temporary blob nor a File).

const LIMIT = 1000
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ files: { maxFileBytes: LIMIT, maxPartBytes: LIMIT } })
})
afterAll(async () => t.close())
afterEach(async () => {
  expect(fs.readdirSync(path.join(t.ctx.config.dataDir, 'blobs', '.tmp'))).toEqual([])
})

const BOUNDARY = 'plinth-test-boundary'

type Part = { name: string; value: string | Buffer; filename?: string; type?: string }

function multipart(parts: Part[], { end = true } = {}): Uint8Array {
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"`
    if (part.filename !== undefined) head += `; filename="${part.filename}"`
    head += '\r\n'
    if (part.type) head += `Content-Type: ${part.type}\r\n`
    chunks.push(Buffer.from(head + '\r\n'), Buffer.from(part.value), Buffer.from('\r\n'))
  }
  if (end) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`))
  return Buffer.concat(chunks)
}

async function post(
  body: BodyInit | Uint8Array,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
  route = '/v1/files',
) {
  const response = await t.fetch(`http://plinth.test${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': contentType },
    body: body as BodyInit,
    duplex: 'half',
  } as RequestInit)
  return {
    status: response.status,
    body: (await response.json()) as { error: Record<string, unknown> },
  }
}

const file = (value: string | Buffer, filename = 'data.jsonl'): Part => ({
  name: 'file',
  value,
  filename,
  type: 'application/octet-stream',
})
const purpose = (value: string): Part => ({ name: 'purpose', value })

async function fileCount() {
  return (await t.client().files.list()).data.length
}

describe('POST /v1/files with bad input', () => {
  it('a body that is not multipart', async () => {
    const r = await post(JSON.stringify({ purpose: 'batch' }), 'application/json')
    expect(r.status).toBe(400)
    expect(r.body.error).toEqual({
      message:
        "Could not parse the multipart form data in your request: expected a multipart/form-data body, got 'application/json'.",
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
  })

  it('multipart without a boundary, and a body cut off mid-form', async () => {
    expect((await post(multipart([purpose('batch')]), 'multipart/form-data')).status).toBe(400)
    const cut = multipart([purpose('batch'), file('{"a":1}\n'.repeat(20))], {
      end: false,
    }).subarray(0, -10)
    const r = await post(cut)
    expect(r.status).toBe(400)
    expect(r.body.error.message).toMatch(
      /^Could not parse the multipart form data in your request: /,
    )
    expect(await fileCount()).toBe(0)
  })

  it('a body that is not multipart at all, under a multipart content type', async () => {
    const r = await post('this is not a form')
    expect(r.status).toBe(400)
    expect(r.body.error.type).toBe('invalid_request_error')
  })

  it("missing fields: the older validator's messages (F3)", async () => {
    expect((await post(multipart([purpose('batch')]))).body.error).toEqual({
      message: "'file' is a required property",
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
    expect((await post(multipart([file('{}\n')]))).body.error.message).toBe(
      "'purpose' is a required property",
    )
  })

  it('a purpose that is not one of the list (F2)', async () => {
    const r = await post(multipart([purpose('fine-tuning'), file('{}\n')]))
    expect(r.status).toBe(400)
    expect(r.body.error).toEqual({
      message:
        "'fine-tuning' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
    expect(await fileCount()).toBe(0)
  })

  it('batch and fine-tune files must be JSONL (F5)', async () => {
    const batch = await post(multipart([purpose('batch'), file('a,b\n', 'data.csv')]))
    expect(batch.status).toBe(400)
    expect(batch.body.error.message).toBe('Invalid file format for Batch API. Must be .jsonl')
    const tune = await post(multipart([file('a,b\n', 'data.csv'), purpose('fine-tune')]))
    expect(tune.body.error.message).toBe('Invalid file format for Fine-Tuning API. Must be .jsonl')
    expect(await fileCount()).toBe(0)
  })

  it('an unknown field, a file sent twice, a bad expires_after', async () => {
    const unknown = await post(
      multipart([purpose('batch'), { name: 'colour', value: 'blue' }, file('{}\n')]),
    )
    expect(unknown.body.error).toMatchObject({
      message: "Unknown parameter: 'colour'.",
      param: 'colour',
      code: 'unknown_parameter',
    })
    expect((await post(multipart([purpose('batch'), file('{}\n'), file('{}\n')]))).status).toBe(400)
    const short = await post(
      multipart([
        purpose('batch'),
        file('{}\n'),
        { name: 'expires_after[anchor]', value: 'created_at' },
        { name: 'expires_after[seconds]', value: '10' },
      ]),
    )
    expect(short.body.error).toMatchObject({
      message:
        "Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 10 instead.",
      param: 'expires_after.seconds',
    })
    // a plain expires_after beside its nested fields is the wrong type, not a 500
    const both = await post(
      multipart([purpose('batch'), file('{}\n'), { name: 'expires_after', value: 'soon' }, { name: 'expires_after[anchor]', value: 'created_at' }]),
    )
    expect(both.status).toBe(400)
    expect(both.body.error).toMatchObject({ type: 'invalid_request_error', param: 'expires_after' })
    // a form field is text: a word is no integer (zod's coerce once read it "a decimal")
    const word = await post(
      multipart([
        purpose('batch'),
        file('{}\n'),
        { name: 'expires_after[anchor]', value: 'created_at' },
        { name: 'expires_after[seconds]', value: 'an hour' },
      ]),
    )
    expect(word.body.error).toMatchObject({
      message: "Invalid type for 'expires_after.seconds': expected an integer, but got a string instead.",
      param: 'expires_after.seconds',
      code: 'invalid_type',
    })
    const anchor = await post(
      multipart([
        purpose('batch'),
        file('{}\n'),
        { name: 'expires_after[anchor]', value: 'now' },
        { name: 'expires_after[seconds]', value: '3600' },
      ]),
    )
    expect(anchor.body.error.param).toBe('expires_after.anchor')
    expect(await fileCount()).toBe(0)
  })

  it('a file over the limit is a 413 with F4, stopped as soon as the limit is crossed', async () => {
    const r = await post(
      multipart([purpose('user_data'), file(Buffer.alloc(LIMIT + 1, 1), 'big.bin')]),
    )
    expect(r.status).toBe(413)
    expect(r.body.error).toEqual({
      message: `Maximum content size limit (${LIMIT}) exceeded (${LIMIT + 1} bytes read)`,
      type: 'server_error',
      param: null,
      code: null,
    })
    // exactly at the limit is fine
    const ok = await post(
      multipart([purpose('user_data'), file(Buffer.alloc(LIMIT, 1), 'fits.bin')]),
    )
    expect(ok.status).toBe(200)
    await t.client().files.delete((ok.body as unknown as { id: string }).id)
  })

  it('a declared body far over the limit is refused before it is read', async () => {
    const huge = new ReadableStream<Uint8Array>({
      pull: () => {
        throw new Error('the body must not be read')
      },
    })
    const response = await t.app.request('http://plinth.test/v1/files', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${PROJECT_KEY}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(100 * 1024 * 1024),
      },
      body: huge,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      `Maximum content size limit (${LIMIT}) exceeded (${100 * 1024 * 1024} bytes read)`,
    )
  })

  it('a client that goes away mid-file leaves nothing behind, at once', async () => {
    const upload = await t.client().uploads.create({
      bytes: 900,
      filename: 'x.bin',
      mime_type: 'application/octet-stream',
      purpose: 'user_data',
    })
    const tmp = path.join(t.ctx.config.dataDir, 'blobs', '.tmp')
    for (const [route, fields, field] of [
      ['/v1/files', [purpose('user_data')], 'file'],
      [`/v1/uploads/${upload.id}/parts`, [], 'data'],
    ] as const) {
      // a real disconnect: half a file on a socket, then the socket is destroyed
      const head = Buffer.concat([
        multipart([...fields], { end: false }),
        Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="x.bin"\r\n\r\n`),
        Buffer.alloc(500, 2),
      ])
      const request = http.request(`${t.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': '900' },
      })
      request.on('error', () => {})
      request.write(head)
      // the server has started the file when its temporary blob exists (0 bytes on disk yet: the
      // first write waits for a batch of 1 MiB)
      for (let i = 0; i < 100 && !fs.readdirSync(tmp).length; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(fs.readdirSync(tmp).map((name) => fs.statSync(path.join(tmp, name)).size)).toEqual([0])
      request.destroy()
      // gone within a moment of the disconnect, not at the stale-write sweep
      for (let i = 0; i < 50 && fs.readdirSync(tmp).length; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(fs.readdirSync(tmp)).toEqual([])
    }
    expect(await fileCount()).toBe(0)
    const parts = path.join(t.ctx.config.dataDir, 'blobs', 'uploads', upload.id)
    expect(fs.existsSync(parts) ? fs.readdirSync(parts) : []).toEqual([])
    await t.client().uploads.cancel(upload.id)
  })

  it('the SDK gets the same errors as typed exceptions', async () => {
    const client = t.client()
    await expect(
      client.files.create({
        file: await toFile(Buffer.from('x'), 'x.txt'),
        purpose: 'nope' as 'batch',
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message:
          "'nope' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
      },
    })
    await expect(
      client.files.create({
        file: await toFile(Buffer.alloc(LIMIT * 2), 'x.bin'),
        purpose: 'user_data',
      }),
    ).rejects.toMatchObject({ status: 413 })
    await expect(client.files.retrieve('file-doesnotexist')).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-doesnotexist', param: 'id' },
    })
  })
})
