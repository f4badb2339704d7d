import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Bytes that are not UTF-8 and unpaired surrogates are refused, on every way in, and never
// stored with U+FFFD in their place (issue 11, item 6). The fast path is in fast-path.test.ts.

const C1 = /^We could not parse the JSON body of your request\. \(HINT/
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))

let http: TestApp
let inProcess: TestApp
beforeAll(async () => {
  http = await createTestApp({}, { transport: 'http' })
  inProcess = await createTestApp({}, { transport: 'in-process' })
  http.ctx.jobs.start()
})
afterAll(async () => {
  await http.close()
  await inProcess.close()
})

async function post(t: TestApp, route: string, body: BodyInit | Buffer, key: string, type: string) {
  const response = await t.fetch(`http://plinth.test/v1${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': type },
    body: body as BodyInit,
  })
  return { status: response.status, body: await response.json() }
}

const projectNames = async (t: TestApp) =>
  (await t.ctx.storage.db.selectFrom('projects').select('name').execute()).map((p) => p.name)

describe('JSON bodies (Hono routes, over Node and in-process)', () => {
  it('bytes that are not UTF-8 are the C1 400, and nothing is created', async () => {
    for (const t of [http, inProcess]) {
      const before = await projectNames(t)
      for (const body of [
        bytes('{"name":"', [0xff, 0xfe], 'x"}'),
        bytes('{"name":"', [0xc3], '"}'), // a sequence cut short
        bytes('{"name":"', [0xed, 0xa0, 0x80], '"}'), // a surrogate encoded in UTF-8 (CESU)
        bytes('{"name":"', [0xc0, 0xaf], '"}'), // an overlong encoding
      ]) {
        const answer = await post(t, '/organization/projects', body, ADMIN_KEY, 'application/json')
        expect(answer.status).toBe(400)
        expect(answer.body.error).toMatchObject({ message: expect.stringMatching(C1), param: null })
      }
      expect(await projectNames(t)).toEqual(before)
    }
  })

  it('an unpaired surrogate escape is the C1 400, in a value or a key', async () => {
    for (const t of [http, inProcess]) {
      for (const body of [
        '{"name":"\\ud800"}',
        '{"name":"x\\uDC00"}',
        '{"name":"\\ud83d\\ud83d"}',
        '{"name":"p","\\ud800":1}',
      ]) {
        const answer = await post(t, '/organization/projects', body, ADMIN_KEY, 'application/json')
        expect(answer.status, body).toBe(400)
        expect(answer.body.error.message).toMatch(C1)
      }
    }
  })

  it('UTF-8 text and surrogate pairs are kept exactly', async () => {
    for (const t of [http, inProcess]) {
      const name = 'Ünïcödé 日本 \u{1F600}'
      const escaped = '{"name":"\\u00dcn\\u00efc\\u00f6d\\u00e9 日本 \\ud83d\\ude00"}'
      for (const body of [JSON.stringify({ name }), escaped]) {
        const answer = await post(t, '/organization/projects', body, ADMIN_KEY, 'application/json')
        expect(answer.status).toBe(200)
        expect(answer.body.name).toBe(name)
      }
    }
  })
})

describe('multipart forms', () => {
  const boundary = 'plinth-utf8-boundary'
  const form = (parts: Buffer[]) =>
    Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)])
  const part = (disposition: Buffer, value: Buffer | string, type?: string) =>
    bytes(
      `--${boundary}\r\nContent-Disposition: form-data; `,
      [...disposition],
      type ? `\r\nContent-Type: ${type}` : '',
      '\r\n\r\n',
      [...Buffer.from(value)],
      '\r\n',
    )
  const upload = (t: TestApp, body: Buffer) =>
    post(t, '/files', body, PROJECT_KEY, `multipart/form-data; boundary=${boundary}`)
  const tmpDir = (t: TestApp) => path.join(t.ctx.config.dataDir, 'blobs', '.tmp')

  it('a filename, a field name or a text value that is not UTF-8 is a 400, nothing kept', async () => {
    for (const t of [http, inProcess]) {
      const purpose = part(bytes('name="purpose"'), 'assistants')
      const cases: [Buffer, string][] = [
        [
          form([purpose, part(bytes('name="file"; filename="a', [0xff], '.txt"'), 'x', 'text/plain')]),
          "a part's filename is not valid UTF-8",
        ],
        [
          form([part(bytes('name="purpose"'), bytes('assis', [0xfe], 'tants')), part(bytes('name="file"; filename="a.txt"'), 'x')]),
          "the value of the field 'purpose' is not valid UTF-8",
        ],
        [form([part(bytes('name="p', [0xc3], '"'), 'x'), purpose]), "a part's name is not valid UTF-8"],
        // a file sent as a text field: its bytes would have been stored with U+FFFD in them
        [form([purpose, part(bytes('name="file"'), bytes('ab', [0xff], 'c'))]), "the value of the field 'file' is not valid UTF-8"],
      ]
      for (const [body, detail] of cases) {
        const answer = await upload(t, body)
        expect(answer.status).toBe(400)
        expect(answer.body.error.message).toBe(
          `Could not parse the multipart form data in your request: ${detail}.`,
        )
      }
      expect((await t.client().files.list()).data).toEqual([])
      expect(fs.readdirSync(tmpDir(t))).toEqual([])
    }
  })

  it('a UTF-8 filename is stored as sent (it was read as latin1)', async () => {
    for (const t of [http, inProcess]) {
      const filename = 'résumé 日本 \u{1F600}.txt'
      const created = await t.client().files.create({
        file: await toFile(Buffer.from('x'), filename),
        purpose: 'assistants',
      })
      expect(created.filename).toBe(filename)
      expect((await t.client().files.retrieve(created.id)).filename).toBe(filename)
      await t.client().files.delete(created.id)
    }
  })
})

describe('batch input lines', () => {
  it('a line that is not UTF-8, or holds an unpaired surrogate, is not JSON', async () => {
    const line = (content: string) =>
      JSON.stringify({
        custom_id: content,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'test-echo', messages: [{ role: 'user', content: 'x' }] },
      })
    const surrogate = line('s').replace('"content":"x"', '"content":"\\ud800"')
    const text = bytes(line('ok'), '\n', line('a').replace('"a"', '"a'), [0xff], '"\n', surrogate, '\n')
    const client = http.client()
    const file = await client.files.create({ file: await toFile(text, 'in.jsonl'), purpose: 'batch' })
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    let done = batch
    for (let i = 0; i < 800 && !['failed', 'completed'].includes(done.status); i++) {
      await new Promise((r) => setTimeout(r, 25))
      done = await client.batches.retrieve(batch.id)
    }
    expect(done.status).toBe('failed')
    const invalid = { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null }
    expect(done.errors?.data).toEqual([
      { line: 2, ...invalid },
      { line: 3, ...invalid },
    ])
  })
})
