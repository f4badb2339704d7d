import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors.js'
import { MAX_JSON_DEPTH } from '../schemas/json-stream.js'
import { readIncomingJson } from './body.js'

// Small bodies are parsed whole with JSON.parse, larger ones as they arrive: either way the
// verdict and the value must be the streaming parser's.

function request(...chunks: (string | Uint8Array)[]): IncomingMessage {
  const stream = Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))
  return Object.assign(stream, { headers: {} }) as unknown as IncomingMessage
}

const read = (...chunks: (string | Uint8Array)[]) => readIncomingJson(request(...chunks), 1 << 20)
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (error as ApiError).message)

describe('readIncomingJson', () => {
  it('parses a small body, split anywhere, and in Uint8Arrays', async () => {
    const text = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'héllo 😀' }], __proto__x: 1 })
    const bytes = Buffer.from(text)
    expect((await read(bytes.subarray(0, 30), bytes.subarray(30))).value).toEqual(JSON.parse(text))
    expect((await read(new Uint8Array(bytes))).value).toEqual(JSON.parse(text))
    const proto = await read('{"__proto__":{"a":1}}')
    expect(Object.keys(proto.value as object)).toEqual(['__proto__'])
  })

  it('refuses in a small body what the streaming parser refuses', async () => {
    const malformed = await refusal(read('{"a":'))
    expect(malformed).toMatch(/could not parse the JSON body/)
    // JSON.parse takes an escaped lone surrogate; the streaming parser does not
    expect(await refusal(read('{"a":"\\ud800"}'))).toBe(malformed)
    expect(await refusal(read(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])))).toBe(malformed)
    // a byte order mark is skipped, as TextDecoder skips it
    expect((await read('\ufeff{"a":1}')).value).toEqual({ a: 1 })
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)
    expect(await refusal(read(deep))).toMatch(/nested too deeply/)
    const shallowEnough = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)
    expect((await read(shallowEnough)).value).toEqual(JSON.parse(shallowEnough))
  })

  it('parses a large body as it arrives, to the same value', async () => {
    const value = { input: Array.from({ length: 5000 }, (_, i) => `item ${i}`) }
    const bytes = Buffer.from(JSON.stringify(value))
    expect(bytes.length).toBeGreaterThan(16 * 1024)
    const parsed = await read(bytes.subarray(0, 1000), bytes.subarray(1000, 20_000), bytes.subarray(20_000))
    expect(parsed.value).toEqual(value)
    expect(parsed.values).toBe(5002)
  })
})
