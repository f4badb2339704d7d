import fs from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { countTokens, countTokensAsync, decodeTokens, encodeTokens, MAX_TOKEN_CHARS, minTokens, tokenPieces, tokenPiecesAsync } from './tokenizer.js'

const raw = createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/o200k_base') as {
  encode(text: string, options?: { disallowedSpecial: Set<string> }): number[]
  decode(t: number[]): string
}
// special tokens in text are plain text (tokenizer.ts), as in the encoder under test
const plain = { encode: (text: string) => raw.encode(text, { disallowedSpecial: new Set() }), decode: raw.decode }

describe('tokenizer', () => {
  it('counts ordinary text exactly as o200k does', () => {
    expect(countTokens('Hello, world!')).toBe(4)
    expect(decodeTokens(encodeTokens('héllo 世界 and more'))).toBe('héllo 世界 and more')
    expect(tokenPieces('The quick brown fox').join('')).toBe('The quick brown fox')
  })

  it('encodes special tokens in text as ordinary text, as OpenAI does with what clients send', () => {
    const text = 'say <|endoftext|> and <|im_start|>'
    const tokens = encodeTokens(text)
    expect(decodeTokens(tokens)).toBe(text)
    expect(tokens).not.toContain(199999) // o200k's <|endoftext|>
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1)
    expect(tokenPieces(text).join('')).toBe(text)
  })

  // the cut points are exact: long texts (prose, markdown, JSON, code) encode as in one call
  it('encodes long real texts to exactly the tokens of one plain encode', () => {
    for (const file of ['README.md', 'docs/architecture.md', 'docs/batches.md', 'src/providers/tokenizer.ts']) {
      const text = fs.readFileSync(file, 'utf8').repeat(2)
      expect(encodeTokens(text), file).toEqual(plain.encode(text))
    }
  })

  // quadratic BPE would take minutes here; the test's timeout is the guard
  it('encodes a very long unbroken word in bounded pieces', () => {
    const word = 'x'.repeat(200_000)
    const tokens = encodeTokens(word)
    expect(decodeTokens(tokens)).toBe(word)
    expect(tokens.length).toBeGreaterThan(200_000 / 256)
  })

  // "a" + 128k spaces + "b" took 11 s and `!/\n/\n…` (one punctuation pre-token of mixed runs)
  // 0.4 s for 32 KB, both quadratic: at 400k characters the test's timeout is the guard
  it.each([
    ['a whitespace run', 'a' + ' '.repeat(400_000) + 'b'],
    ['a run of newlines', 'a' + '\n'.repeat(400_000) + 'b'],
    ['punctuation with slashes and newlines', '!' + '/\n'.repeat(200_000)],
    ['CJK without spaces', '世界和平'.repeat(100_000)],
    ['astral characters', '😀'.repeat(200_000)],
  ])('encodes %s in linear time, losslessly', (_name, text) => {
    const tokens = encodeTokens(text)
    expect(decodeTokens(tokens)).toBe(text)
    expect(tokens.length).toBeGreaterThanOrEqual(minTokens(text.length))
  })

  it('bounds the count from below by the longest token', () => {
    expect(plain.decode([plain.encode(' '.repeat(200))[0]]).length).toBeLessThanOrEqual(MAX_TOKEN_CHARS)
    expect(minTokens(1)).toBe(1)
    expect(minTokens(MAX_TOKEN_CHARS + 1)).toBe(2)
  })

  it('counts and splits asynchronously with the same results, stopping early when asked', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(5000)
    expect(await countTokensAsync(text)).toBe(plain.encode(text).length)
    const early = await countTokensAsync(text, { atMost: 1000 })
    expect(early).toBeGreaterThan(1000)
    expect(early).toBeLessThan(plain.encode(text).length)
    const pieces = await tokenPiecesAsync(text, 7)
    expect(pieces).toEqual(tokenPieces(text).slice(0, 7))
    expect((await tokenPiecesAsync(text)).join('')).toBe(text)
  })

  it('lets timers run while counting a long text', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(40_000)
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    await countTokensAsync(text)
    clearInterval(timer)
    expect(ticks).toBeGreaterThan(2)
  })
})
