import type { Llama, LlamaGrammar } from 'node-llama-cpp'
import { describe, expect, it } from 'vitest'
import { GrammarCache } from './grammar.js'

/** A Llama that "compiles" a grammar into an object naming it, counting the builds. */
function fakeLlama(failing = new Set<string>()) {
  const built: string[] = []
  const llama = {
    async createGrammar({ grammar }: { grammar: string }) {
      built.push(grammar)
      if (failing.has(grammar)) throw new Error(`cannot build ${grammar}`)
      return { grammar } as unknown as LlamaGrammar
    },
  }
  return { llama: llama as unknown as Llama, built }
}

const names = (i: number) => [`f${i}`]

describe('GrammarCache', () => {
  it('builds a grammar once and hands the same one out again', async () => {
    const { llama, built } = fakeLlama()
    const cache = new GrammarCache(llama)
    const first = await cache.forOneOf(['a', 'b'])
    expect(await cache.forOneOf(['a', 'b'])).toBe(first)
    expect(built).toEqual(['root ::= "a" | "b"'])
  })

  it('keeps the 64 most recently used, dropping the least recently used first', async () => {
    const { llama, built } = fakeLlama()
    const cache = new GrammarCache(llama)
    for (let i = 0; i < 64; i++) await cache.forOneOf(names(i))
    await cache.forOneOf(names(0)) // used again: now the most recent
    await cache.forOneOf(names(64)) // evicts f1
    built.length = 0
    await cache.forOneOf(names(0))
    await cache.forOneOf(names(64))
    expect(built).toEqual([])
    await cache.forOneOf(names(1))
    expect(built).toEqual(['root ::= "f1"'])
  })

  it('forgets a grammar that failed to build, so the next request tries again', async () => {
    const failing = new Set(['root ::= "bad"'])
    const { llama, built } = fakeLlama(failing)
    const cache = new GrammarCache(llama)
    await expect(cache.forOneOf(['bad'])).rejects.toThrow(/cannot build/)
    failing.clear()
    expect(await cache.forOneOf(['bad'])).toEqual({ grammar: 'root ::= "bad"' })
    expect(built).toEqual(['root ::= "bad"', 'root ::= "bad"'])
  })
})
