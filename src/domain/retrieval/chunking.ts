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
 * `max - overlap` tokens after the one before. A cut that falls inside a character (a token that
 * holds only part of its UTF-8 bytes) moves past the character, so no chunk holds half of one. Runs in the extraction
 * worker: a large file's tokens take seconds, which the event loop must not wait for.
 */
export function chunkText(text: string, chunking: Chunking, maxTokens = Infinity): TextChunk[] {
  const tokens = encodeTokens(text)
  if (tokens.length > maxTokens) throw new TooManyTokens(tokens.length, maxTokens)
  const size = chunking.max_chunk_size_tokens
  const step = Math.max(1, size - chunking.chunk_overlap_tokens)
  const chunks: TextChunk[] = []
  for (let start = 0; start < tokens.length; start += step) {
    const from = start
    let to = Math.min(tokens.length, start + size)
    let piece = decodeTokens(tokens.slice(from, to))
    // an end inside a character: take the rest of it (a UTF-8 character is at most 4 bytes)
    for (let extra = 0; piece.endsWith('\uFFFD') && to < tokens.length && extra < 3; extra++) {
      to++
      piece = decodeTokens(tokens.slice(from, to))
    }
    // a start inside a character: its first bytes belong to the chunk before, which took it whole
    piece = piece.replace(/^\uFFFD+/, '')
    const trimmed = piece.trim()
    if (trimmed) chunks.push({ text: trimmed, tokens: to - from })
    if (start + size >= tokens.length) break
  }
  return chunks
}
