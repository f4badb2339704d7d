import { createRequire } from 'node:module'

type Encoding = { encode(text: string): number[]; decode(tokens: number[]): string }

const require = createRequire(import.meta.url)
let encoding: Encoding | undefined

/**
 * o200k_base (the GPT-4o family's tokenizer), loaded on first use: it costs about 70 MB and
 * 170 ms, which an idle server or a pure pass-through proxy need not pay.
 */
function o200k(): Encoding {
  encoding ??= asPlainText(require('gpt-tokenizer/cjs/encoding/o200k_base'))
  return encoding
}

const NO_SPECIAL_TOKENS = { disallowedSpecial: new Set<string>() }

/**
 * gpt-tokenizer throws on text that contains a special token (`<|endoftext|>`), by default: any
 * message quoting one was a 500. Text from clients is text, as at OpenAI: the characters are
 * encoded as ordinary tokens, never as the special one.
 */
function asPlainText(raw: { encode(text: string, options: typeof NO_SPECIAL_TOKENS): number[]; decode(tokens: number[]): string }): Encoding {
  return { encode: (text) => raw.encode(text, NO_SPECIAL_TOKENS), decode: (tokens) => raw.decode(tokens) }
}

const LONG_WORD = /\S{257,}/
const PIECE = 256

/**
 * BPE takes time quadratic in the length of one unbroken word: 100k characters without a space
 * took 7 s, a way to stall the server with one request. Words over 256 characters are encoded in
 * 256-character pieces instead: the count can differ by a token at each cut, in text that is not
 * language anyway. Ordinary text takes the plain path.
 */
function encodeBounded(text: string): number[] {
  const enc = o200k()
  if (!LONG_WORD.test(text)) return enc.encode(text)
  const out: number[] = []
  for (const part of text.split(/(\S{257,})/)) {
    if (!part) continue
    if (part.length <= PIECE || /\s/.test(part)) {
      out.push(...enc.encode(part))
      continue
    }
    for (let i = 0; i < part.length; i += PIECE) out.push(...enc.encode(part.slice(i, i + PIECE)))
  }
  return out
}

export function countTokens(text: string): number {
  return text ? encodeBounded(text).length : 0
}

export function encodeTokens(text: string): number[] {
  return encodeBounded(text)
}

export function decodeTokens(tokens: number[]): string {
  return o200k().decode(tokens)
}

/** Splits text into the strings of its tokens (concatenated they give the text back). */
export function tokenPieces(text: string): string[] {
  const enc = o200k()
  const pieces: string[] = []
  let pending: number[] = []
  for (const token of encodeBounded(text)) {
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
