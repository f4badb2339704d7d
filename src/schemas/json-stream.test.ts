import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors.js'
import { parseJsonText } from './json-text.js'
import { JsonStreamParser, MAX_JSON_ARRAY_NUMBERS, MAX_JSON_DEPTH, MAX_JSON_VALUES, MAX_OBJECT_KEYS, parseJsonPaced } from './json-stream.js'

function parseIn(text: string, size: number): unknown {
  const parser = new JsonStreamParser()
  for (let i = 0; i < text.length; i += size) parser.write(text.slice(i, i + size))
  return parser.end()
}

/**
 * Same value as JSON.parse, or both fail (the parser with OpenAI's 400), at every chunking. An
 * unpaired surrogate escape is refused too, as the whole-text reader (json-text.ts) refuses it.
 */
function expectSameAsJsonParse(text: string) {
  const parsed = parseJsonText(text)
  const fails = parsed === undefined
  const expected = parsed?.value
  for (const size of [1, 2, 3, 7, 64, 100_000]) {
    if (fails) {
      expect(() => parseIn(text, size), `${JSON.stringify(text)} in ${size}`).toThrow(ApiError)
      continue
    }
    const got = parseIn(text, size)
    expect(got, `${JSON.stringify(text)} in ${size}`).toStrictEqual(expected)
    expect(JSON.stringify(got)).toBe(JSON.stringify(expected))
  }
}

let seed = 7
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]
function randomValue(depth: number): unknown {
  const r = random()
  if (depth > 4 || r < 0.3) return pick([0, -0, 1.5e-7, -12, 1e300, 'a', '', 'é😀\u2028', '"\\/\b\f\n\r\t', '\u0001', true, false, null, '__proto__'])
  if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1))
  const out: Record<string, unknown> = {}
  for (let i = 0; i < random() * 4; i++) out[pick(['a', 'b', 'ü', '', 'c'])] = randomValue(depth + 1)
  return out
}

describe('JsonStreamParser', () => {
  it('parses what JSON.parse parses and refuses what it refuses, however the text is cut', () => {
    const fixed = ['', ' ', '[]', '{}', '[,]', '[1,]', '{"a":1,}', '{,}', '01', '1.', '.5', '-', '1e', '1e+5', '-0.5E-3', 'tru', 'nul', 'nulll', 'truex',
      '"\\u00"', '"\\x"', '"\\u00e9\\ud83d\\ude00"', '"\\u00e9\\ud83d\\ude00\\ud800"', '{"\\udc00":1}', '["\\ud83d", "\\ude00"]', '\uFEFF{}', '[1] 2', ' [1] ', '"\t"', '{"a":1 "b":2}', '{"a" 1}', '[1 2]', '{"a":{"b":[]}}']
    for (const text of fixed) expectSameAsJsonParse(text)
    for (let k = 0; k < 400; k++) {
      let text = JSON.stringify(randomValue(0), null, random() < 0.3 ? 2 : undefined) ?? 'null'
      if (random() < 0.3) text = text.replace(/é/g, '\\u00e9').replace(/😀/g, '\\ud83d\\ude00')
      expectSameAsJsonParse(text)
      const at = Math.floor(random() * text.length)
      const broken = random() < 0.5 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + pick(['{', '}', ']', ',', ':', '"', '\\', '1', '-', 'e', 'n', '\\u12']) + text.slice(at)
      expectSameAsJsonParse(broken)
    }
  })

  it('makes __proto__ an own property, as JSON.parse does', () => {
    const value = parseIn('{"__proto__":{"polluted":1}}', 3) as Record<string, unknown>
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect((value as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('refuses nesting past MAX_JSON_DEPTH as soon as it is crossed', () => {
    const parser = new JsonStreamParser()
    expect(() => parser.write('['.repeat(MAX_JSON_DEPTH + 1))).toThrow(/nested too deeply/)
    expect(parseIn('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), 1000)).toBeDefined()
  })

  it('refuses more values than a request may hold, counting numbers in arrays apart', () => {
    expect(() => parseIn('[' + '{},'.repeat(MAX_JSON_VALUES) + '{}]', 65536)).toThrow(/too many values/)
    expect(() => parseIn('[' + '1,'.repeat(MAX_JSON_ARRAY_NUMBERS) + '1]', 65536)).toThrow(/too many values/)
    // an embeddings request of 300,000 token ids passes
    const tokens = JSON.stringify({ input: Array.from({ length: 2048 }, () => Array(146).fill(1000)) })
    expect((parseIn(tokens, 65536) as { input: number[][] }).input).toHaveLength(2048)
  })

  it('refuses an object with more keys than any request has', () => {
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`
    expect(Object.keys(parseIn(keys(MAX_OBJECT_KEYS), 4096) as object)).toHaveLength(MAX_OBJECT_KEYS)
    expect(() => parseIn(keys(MAX_OBJECT_KEYS + 1), 4096)).toThrow(/more than 5000 properties/)
  })

  it('reads a long string with escapes cut anywhere', async () => {
    const value = { s: 'a"b\\c\n\u0001é😀'.repeat(50_000) }
    expect(await parseJsonPaced(JSON.stringify(value))).toEqual(value)
    expect(parseIn(JSON.stringify(value), 4099)).toEqual(value)
  })
})
