import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors.js'
import { nestFields, readMultipart } from './multipart.js'

const BOUNDARY = 'unit-boundary'
const MiB = 1024 * 1024

/** A multipart body with one file of `size` bytes, made chunk by chunk as it is read. */
function streamingForm(size: number, chunk = 64 * 1024): Request {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  let sent = -1
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent < 0) controller.enqueue(head)
      else if (sent < size) controller.enqueue(Buffer.alloc(Math.min(chunk, size - sent), 7))
      else {
        controller.enqueue(tail)
        controller.close()
      }
      sent = sent < 0 ? 0 : sent + chunk
    },
  })
  return new Request('http://unit.test/', {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body,
    duplex: 'half',
  } as RequestInit)
}

describe('readMultipart', () => {
  it('holds no more than a few chunks of a file, however large', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    // growth between two points, not an absolute level: whatever else the process holds cancels
    // out, and a body kept alive would add the 96 MiB read in between
    let early = Infinity
    let midway = Infinity
    const form = await readMultipart(streamingForm(128 * MiB), {
      files: { file: { limit: 200 * MiB } },
      fields: ['purpose'],
      async receive(data) {
        let read = 0
        for await (const chunk of data) {
          read += chunk.byteLength
          if (read >= 16 * MiB && early === Infinity) {
            gc()
            early = process.memoryUsage().arrayBuffers
          }
          if (read >= 112 * MiB && midway === Infinity) {
            gc()
            midway = process.memoryUsage().arrayBuffers
          }
        }
        return read
      },
      release: async () => {},
    })
    expect(form.fields).toEqual({ purpose: 'batch' })
    expect(form.files[0]).toMatchObject({ field: 'file', filename: 'f.bin', value: 128 * MiB })
    // the 96 MiB read between the two points must not still be reachable (a few chunks in
    // flight and external memory freed lazily after gc() stay well under half of it)
    expect(midway - early).toBeLessThan(48 * MiB)
  })

  it('stops at the limit with F4, and releases what it had received', async () => {
    const released: unknown[] = []
    const error = await readMultipart(streamingForm(3 * MiB), {
      files: { file: { limit: MiB } },
      fields: ['purpose'],
      async receive(data) {
        for await (const _ of data);
        return 'never'
      },
      release: async (value) => void released.push(value),
    }).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(413)
    expect(error.message).toMatch(
      /^Maximum content size limit \(1048576\) exceeded \(\d+ bytes read\)$/,
    )
  })
})

describe('readMultipart: long text fields', () => {
  const form = (values: [string, string][]) => {
    const body = values.map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') + `--${BOUNDARY}--\r\n`
    return new Request('http://unit.test/', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body })
  }
  const options = {
    files: {},
    fields: ['model', 'sample[]'],
    longFields: { 'sample[]': { bytes: 200 * 1024, repeat: 2 } },
    receive: async () => undefined,
    release: async () => {},
  }
  const refusal = (values: [string, string][]) => readMultipart(form(values), options).then(() => undefined, (e: ApiError) => e)

  it('takes a long field up to its own limit; other fields keep the 64 KiB', async () => {
    const long = 'a'.repeat(150 * 1024)
    const ok = await readMultipart(form([['model', 'm'], ['sample[]', long], ['sample[]', long]]), options)
    expect(ok.lists['sample[]']).toEqual([long, long])
    expect((await refusal([['model', 'a'.repeat(65 * 1024)]]))?.message).toContain("the field 'model' is longer than 65536 bytes")
    expect((await refusal([['sample[]', 'a'.repeat(201 * 1024)]]))?.message).toContain("the field 'sample[]' is longer than 204800 bytes")
  })

  it('takes a long field at most `repeat` times', async () => {
    const error = await refusal([['sample[]', 'a'], ['sample[]', 'b'], ['sample[]', 'c']])
    expect(error?.status).toBe(400)
    expect(error?.message).toContain("the field 'sample[]' was sent more than 2 times")
  })
})

describe('nestFields', () => {
  it('nests a[b] names as the SDKs send objects', () => {
    expect(
      nestFields({
        purpose: 'batch',
        'expires_after[anchor]': 'created_at',
        'expires_after[seconds]': '3600',
      }),
    ).toEqual({
      purpose: 'batch',
      expires_after: { anchor: 'created_at', seconds: '3600' },
    })
  })

  it('keeps a plain value given beside nested ones, in either order, for validation to refuse', () => {
    expect(nestFields({ expires_after: 'soon', 'expires_after[anchor]': 'created_at' })).toEqual({ expires_after: 'soon' })
    expect(nestFields({ 'expires_after[anchor]': 'created_at', expires_after: 'soon' })).toEqual({ expires_after: 'soon' })
  })
})
