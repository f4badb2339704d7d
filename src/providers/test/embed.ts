import { createHash } from 'node:crypto'
import { decodeTokens } from '../tokenizer.js'

export const TEST_EMBED_DIMENSIONS = 1536

/**
 * A unit vector drawn from sha256(text) in counter mode: the same text always gives the same
 * vector, different texts give unrelated ones. It carries no meaning: it is for testing plumbing.
 * Asking for fewer dimensions gives the first ones of the full vector, renormalised, as
 * OpenAI's `dimensions` shortening does.
 */
export function hashEmbedding(input: string | number[], dimensions: number): number[] {
  const text = typeof input === 'string' ? input : decodeTokens(input)
  const values = new Array<number>(dimensions)
  let block = 0
  let buffer = Buffer.alloc(0)
  for (let i = 0; i < dimensions; i++) {
    if ((i * 4) % 32 === 0) {
      buffer = createHash('sha256').update(`${block++}\u0000${text}`).digest()
    }
    const word = buffer.readUInt32LE((i * 4) % 32)
    values[i] = word / 0xffffffff - 0.5
  }
  let norm = 0
  for (const v of values) norm += v * v
  norm = Math.sqrt(norm) || 1
  return values.map((v) => v / norm)
}
