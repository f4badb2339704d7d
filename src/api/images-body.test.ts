import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Base64Bytes } from '../domain/images/service.js'
import { imagesBody } from './images.js'

describe('the images answer body', () => {
  it('encodes pictures slice by slice to the same text as one base64 string, whatever their length', async () => {
    // lengths around the 48 KB slice: padding may only come at a picture's end
    const pictures = [0, 1, 2, 3, 49_151, 49_152, 49_153, 300_001].map((n) => randomBytes(n))
    const answer = { created: 1, data: [...pictures.map((p) => ({ b64_json: new Base64Bytes(p) })), { b64_json: 'abc=', revised_prompt: 'x' }] }
    const text = Buffer.concat(await imagesBody(answer as never)).toString('utf8')
    const parsed = JSON.parse(text) as { created: number; data: { b64_json: string; revised_prompt?: string }[] }
    expect(parsed.data.map((d) => d.b64_json)).toEqual([...pictures.map((p) => p.toString('base64')), 'abc='])
    expect(parsed.data.at(-1)!.revised_prompt).toBe('x')
  })

  it('serialises a picture as its base64 text wherever the answer is turned into JSON whole', () => {
    const bytes = randomBytes(1000)
    expect(JSON.parse(JSON.stringify({ b64_json: new Base64Bytes(bytes) }))).toEqual({ b64_json: bytes.toString('base64') })
  })
})
