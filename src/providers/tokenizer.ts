import { createRequire } from 'node:module'

type Encoding = { encode(text: string): number[]; decode(tokens: number[]): string }

const require = createRequire(import.meta.url)
let encoding: Encoding | undefined

/**
 * o200k_base (the GPT-4o family's tokenizer), loaded on first use: it costs about 70 MB and
 * 170 ms, which an idle server or a pure pass-through proxy need not pay.
 */
function o200k(): Encoding {
  encoding ??= require('gpt-tokenizer/cjs/encoding/o200k_base') as Encoding
  return encoding
}

export function countTokens(text: string): number {
  return text ? o200k().encode(text).length : 0
}

export function encodeTokens(text: string): number[] {
  return o200k().encode(text)
}

export function decodeTokens(tokens: number[]): string {
  return o200k().decode(tokens)
}

/** Splits text into the strings of its tokens (concatenated they give the text back). */
export function tokenPieces(text: string): string[] {
  const enc = o200k()
  const pieces: string[] = []
  let pending: number[] = []
  for (const token of enc.encode(text)) {
    pending.push(token)
    const piece = enc.decode(pending)
    // a token that ends inside a multi-byte character decodes to U+FFFD: wait for the rest
    if (!piece.endsWith('\uFFFD')) {
      pieces.push(piece)
      pending = []
    }
  }
  if (pending.length) pieces.push(enc.decode(pending))
  return pieces
}
