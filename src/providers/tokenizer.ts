import { createRequire } from 'node:module'
import { Pacer } from '../pacing.js'

type Encoding = { encode(text: string): number[]; decode(tokens: number[]): string }

const require = createRequire(import.meta.url)
let encoding: Encoding | undefined

/**
 * o200k_base (the GPT-4o family's tokenizer), loaded once: about 70 MB and 170-250 ms in one
 * synchronous step. `plinth serve` loads it before listening (warmTokenizer), so no request pays
 * that stall; in-process users (tests, the CLI) load it on first use.
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

/** Loads the encoder now, so the first request that counts tokens does not pay the 170 ms. */
export function warmTokenizer(): void {
  o200k()
}

/**
 * The longest o200k token is 128 characters (a run of spaces), so a text of N UTF-16 units is at
 * least ceil(N / 128) tokens: a bound that refuses a text far over a context without encoding it.
 */
export const MAX_TOKEN_CHARS = 128

export function minTokens(chars: number): number {
  return Math.ceil(chars / MAX_TOKEN_CHARS)
}

/**
 * BPE takes time quadratic in the length of one pre-token: 128k spaces between two letters took
 * 11 s, 32k characters of `/\n` 0.4 s. Text is therefore encoded in segments whose stretches
 * between exact cut points are at most MAX_RUN long.
 *
 * An exact cut is before a space that follows a non-space, or before ASCII punctuation (but `'`)
 * that follows an ASCII letter or digit: no o200k pre-token (letters with a contraction, digits,
 * punctuation with its trailing newlines or slashes, whitespace runs) runs across that point, and
 * its pattern has no look-behind, so the parts encode to the same tokens as the whole. A stretch
 * longer than MAX_RUN without one (one long word, CJK without spaces, a whitespace run,
 * `/\n/\n…`) is cut every MAX_RUN characters: the count may differ by a token at each such cut,
 * in text that is rarely language. Exact segments are joined up to SLICE characters per call.
 */
const MAX_RUN = 256
const SLICE = 8192

function isAsciiAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
}

function isAsciiPunct(code: number): boolean {
  return code !== 39 && ((code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96) || (code >= 123 && code <= 126))
}

function isExactCut(text: string, i: number): boolean {
  const code = text.charCodeAt(i)
  const before = text.charCodeAt(i - 1)
  if (code === 32) return !isSpaceLike(before)
  return isAsciiPunct(code) && isAsciiAlnum(before)
}

function isSpaceLike(code: number): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true
  return code >= 0x80 && /\s/.test(String.fromCharCode(code))
}

/** [start, end) of each segment of `text`, in order (see MAX_RUN). */
function* segments(text: string): Generator<[number, number]> {
  const n = text.length
  let start = 0
  let cut = 0
  for (let i = 1; i < n; i++) {
    if (isExactCut(text, i)) {
      if (i - start > SLICE && cut > start) {
        yield [start, cut]
        start = cut
      }
      cut = i
    } else if (i - cut > MAX_RUN) {
      // never between the two halves of a surrogate pair
      const code = text.charCodeAt(i)
      const at = code >= 0xdc00 && code <= 0xdfff ? i - 1 : i
      yield [start, at]
      start = cut = at
    }
  }
  if (start < n) yield [start, n]
}

function encodeBounded(text: string): number[] {
  const enc = o200k()
  if (text.length <= MAX_RUN) return enc.encode(text)
  const out: number[] = []
  for (const [start, end] of segments(text)) {
    for (const token of enc.encode(text.slice(start, end))) out.push(token)
  }
  return out
}

/**
 * The synchronous forms take time linear in the text, about 50 ms a MB: for short texts (names,
 * a chunk of output). Text of unbounded length goes through the async forms below.
 */
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
  const pieces: string[] = []
  piecesOf(encodeBounded(text), pieces, Infinity)
  return pieces
}

/** Decodes tokens one by one into pieces; a token ending inside a character waits for the rest. */
function piecesOf(tokens: number[], into: string[], max: number): void {
  const enc = o200k()
  let pending: number[] = []
  for (const token of tokens) {
    if (into.length >= max) return
    pending.push(token)
    const piece = enc.decode(pending)
    // a token that ends inside a multi-byte character decodes to U+FFFD: wait for the rest
    if (!piece.endsWith('\uFFFD')) {
      into.push(piece)
      pending = []
    }
  }
  if (pending.length && into.length < max) into.push(enc.decode(pending))
}

/**
 * The token count of a text of any length, encoded in slices that let other requests run between
 * them. With `atMost`, counting stops once the count passes it (the result is then a lower bound
 * above `atMost`): a prompt over a context need not be counted to the end.
 */
export async function countTokensAsync(text: string, options: { atMost?: number; signal?: AbortSignal } = {}): Promise<number> {
  if (text.length <= SLICE) return countTokens(text)
  const enc = o200k()
  const pacer = new Pacer()
  let count = 0
  for (const [start, end] of segments(text)) {
    count += enc.encode(text.slice(start, end)).length
    if (options.atMost !== undefined && count > options.atMost) return count
    await pacer.pace(options.signal)
  }
  return count
}

/**
 * The first `max` token pieces of a text, encoded in slices as countTokensAsync: a model echoing
 * a long text never encodes more of it than it may emit.
 */
export async function tokenPiecesAsync(text: string, max = Infinity, signal?: AbortSignal): Promise<string[]> {
  if (text.length <= SLICE) return tokenPieces(text).slice(0, max)
  const enc = o200k()
  const pacer = new Pacer()
  const pieces: string[] = []
  for (const [start, end] of segments(text)) {
    piecesOf(enc.encode(text.slice(start, end)), pieces, max)
    if (pieces.length >= max) break
    await pacer.pace(signal)
  }
  return pieces
}
