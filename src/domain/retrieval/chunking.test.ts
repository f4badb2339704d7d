import { describe, expect, it } from 'vitest'
import { ApiError } from '../../errors.js'
import { countTokens } from '../../providers/tokenizer.js'
import { AUTO_CHUNKING, chunkText, pack, resolveChunking, TooManyTokens, unpack } from './chunking.js'
import { normalizeQuery } from './query-rewriter.js'
import { keywordTerms } from './query-terms.js'
import { fuse } from './search.js'

describe('chunking', () => {
  const text = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ')

  it('cuts windows of at most max tokens, each starting max - overlap tokens after the last', () => {
    const chunks = chunkText(text, { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 })
    const total = countTokens(text)
    expect(chunks.length).toBe(Math.ceil((total - 200) / 150) + 1)
    for (const chunk of chunks.slice(0, -1)) expect(chunk.tokens).toBe(200)
    // consecutive chunks share their overlap: the second starts inside the first
    expect(chunks[0].text.includes(chunks[1].text.slice(0, 40))).toBe(true)
    expect(chunks[1].text.includes(chunks[0].text.slice(0, 40))).toBe(false)
    const plain = chunkText(text, { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 })
    // without overlap the chunks are the text, cut (only the whitespace at the cuts is trimmed)
    expect(plain.map((c) => c.text).join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''))
  })

  it('never splits a character: chunks of multi-byte text decode cleanly', () => {
    const cjk = '東京都は日本の首都であり、世界最大の都市圏の一つです。'.repeat(200) + '🙂'.repeat(300)
    for (const chunk of chunkText(cjk, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 33 })) {
      expect(chunk.text).not.toContain('\uFFFD')
    }
    const joined = chunkText(cjk, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 }).map((c) => c.text).join('')
    expect(joined).toBe(cjk)
  })

  it('refuses more tokens than the limit', () => {
    expect(() => chunkText(text, AUTO_CHUNKING, 100)).toThrow(TooManyTokens)
  })

  it('packs chunks into one string and back', () => {
    const chunks = chunkText(text, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 10 })
    expect(unpack(pack(chunks))).toEqual(chunks)
  })

  it('checks a static strategy: overlap from 0 to half the size; auto is 800/400', () => {
    expect(resolveChunking(undefined, 'chunking_strategy')).toEqual(AUTO_CHUNKING)
    expect(resolveChunking({ type: 'auto' }, 'chunking_strategy')).toEqual({ max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 })
    const half = { type: 'static' as const, static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 200 } }
    expect(resolveChunking(half, 'chunking_strategy')).toEqual(half.static)
    for (const overlap of [-1, 201]) {
      const error = (() => {
        try {
          resolveChunking({ type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: overlap } }, 'chunking_strategy')
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ApiError)
      expect(error).toMatchObject({ status: 400, param: 'chunking_strategy.static.chunk_overlap_tokens' })
    }
  })
})

describe('search helpers', () => {
  it('keeps a query’s words, without stopwords or punctuation', () => {
    expect(keywordTerms('What is the main export of Lokador1?')).toEqual(['main', 'export', 'lokador1'])
    expect(keywordTerms('"); DROP TABLE x; --')).toEqual(['drop', 'table'])
    expect(normalizeQuery('What do the spiders spin?')).toBe('spiders spin')
    expect(normalizeQuery('the of')).toBe('the of')
  })

  it('fuses ranks: first on every list scores 1, and a chunk on two lists beats one on one', () => {
    const fused = fuse(
      [
        [{ seq: 1, score: 0.9 }, { seq: 2, score: 0.8 }],
        [{ seq: 1, score: 5 }, { seq: 3, score: 4 }],
      ],
      2,
    )
    expect(fused[0]).toEqual({ seq: 1, score: 1 })
    expect(fused.map((h) => h.seq)).toEqual([1, 2, 3])
    expect(fused[1].score).toBeCloseTo(1 / 62 / (2 / 61), 10)
  })
})
