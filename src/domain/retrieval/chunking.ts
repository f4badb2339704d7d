import { chunkOverlapTooLarge } from '../../errors.js'
import { decodeTokens, encodeTokens } from '../../providers/tokenizer.js'
import type { ChunkingStrategyParam } from '../../schemas/vector-stores.js'

/** What a file is cut with: windows of tokens, each sharing `overlap` tokens with the one before. */
export type Chunking = { max_chunk_size_tokens: number; chunk_overlap_tokens: number }

/** OpenAI's `auto`: 800-token chunks overlapping by 400. */
export const AUTO_CHUNKING: Chunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }

/**
 * A request's chunking strategy, checked beyond what the schema says: the overlap is at least 0
 * and at most half the chunk size (OpenAI's rule). None given: `fallback`, else auto.
 */
export function resolveChunking(
  given: ChunkingStrategyParam | undefined,
  param: string,
  fallback: Chunking = AUTO_CHUNKING,
): Chunking {
  if (!given) return fallback
  if (given.type === 'auto') return AUTO_CHUNKING
  const { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap } = given.static
  if (overlap < 0 || overlap > max / 2) {
    throw chunkOverlapTooLarge(`${param}.static.chunk_overlap_tokens`, overlap, max)
  }
  return { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap }
}

export type TextChunk = { text: string; tokens: number }

/**
 * Where each token's text starts in `text` (and, last, the text's length), by decoding the tokens
 * one after the other: gpt-tokenizer's decoder streams, so a token that ends inside a character
 * yields only what it completes, and the token that completes the character yields all of it.
 * Undefined when the pieces do not add up to the text (a decoder that does not stream): the
 * chunks then come from decoding each window.
 */
function tokenOffsets(text: string, tokens: number[]): Uint32Array | undefined {
  const offsets = new Uint32Array(tokens.length + 1)
  let at = 0
  for (let i = 0; i < tokens.length; i++) {
    const piece = decodeTokens([tokens[i]])
    if (piece && !text.startsWith(piece, at)) return undefined
    at += piece.length
    offsets[i + 1] = at
  }
  return at === text.length ? offsets : undefined
}

/** A file over the token limit of file search (OpenAI's is 5,000,000 per file). */
export class TooManyTokens extends Error {
  override name = 'TooManyTokens'
  constructor(
    readonly tokens: number,
    readonly max: number,
  ) {
    super(`The file has ${tokens} tokens; file search takes files of at most ${max} tokens.`)
  }
}

/**
 * Cuts text into chunks of at most `max_chunk_size_tokens` o200k tokens, each starting
 * `max - overlap` tokens after the one before. A character whose bytes two tokens share goes to
 * the chunk holding the token that completes it, so no chunk holds half of one. Runs in the
 * extraction worker: a large file's tokens take seconds, which the event loop must not wait for.
 */
export function chunkText(text: string, chunking: Chunking, maxTokens = Infinity): TextChunk[] {
  const tokens = encodeTokens(text)
  if (tokens.length > maxTokens) throw new TooManyTokens(tokens.length, maxTokens)
  const size = chunking.max_chunk_size_tokens
  const step = Math.max(1, size - chunking.chunk_overlap_tokens)
  const chunks: TextChunk[] = []
  const offsets = tokenOffsets(text, tokens)
  for (let start = 0; start < tokens.length; start += step) {
    const to = Math.min(tokens.length, start + size)
    // a character cut by the window's edge belongs to the token that completes it
    const piece = offsets
      ? text.slice(offsets[start], offsets[to])
      : decodeTokens(tokens.slice(start, to)).replace(/^\uFFFD+|\uFFFD+$/g, '')
    const trimmed = piece.trim()
    if (trimmed) chunks.push({ text: trimmed, tokens: to - start })
    if (start + size >= tokens.length) break
  }
  return chunks
}

/**
 * Chunks as one string and the offsets where each ends: a file of 5 million tokens is tens of
 * thousands of chunks, and one string (plus two typed arrays, moved, not copied) crosses to the
 * main thread at memcpy speed, where as many strings would be rebuilt one by one on its event loop.
 */
export type PackedChunks = { text: string; ends: Uint32Array; tokens: Uint32Array }

export function pack(chunks: TextChunk[]): PackedChunks {
  const ends = new Uint32Array(chunks.length)
  const tokens = new Uint32Array(chunks.length)
  let end = 0
  chunks.forEach((chunk, i) => {
    end += chunk.text.length
    ends[i] = end
    tokens[i] = chunk.tokens
  })
  return { text: chunks.map((c) => c.text).join(''), ends, tokens }
}

export function unpack(packed: PackedChunks): TextChunk[] {
  const out: TextChunk[] = []
  let start = 0
  for (let i = 0; i < packed.ends.length; i++) {
    out.push({ text: packed.text.slice(start, packed.ends[i]), tokens: packed.tokens[i] })
    start = packed.ends[i]
  }
  return out
}
