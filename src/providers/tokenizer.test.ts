import { describe, expect, it } from 'vitest'
import { countTokens, decodeTokens, encodeTokens, tokenPieces } from './tokenizer.js'

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

  // quadratic BPE would take minutes here; the test's timeout is the guard
  it('encodes a very long unbroken word in bounded pieces', () => {
    const word = 'x'.repeat(200_000)
    const tokens = encodeTokens(word)
    expect(decodeTokens(tokens)).toBe(word)
    expect(tokens.length).toBeGreaterThan(200_000 / 256)
  })
})
