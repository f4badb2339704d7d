import { describe, expect, it } from 'vitest'
import { CompletionCreateParams } from './completions.js'
import { EmbeddingCreateParams } from './embeddings.js'

describe('TokenArray', () => {
  it('reports an empty token array inside a list as zod’s own .min(1) did: that item, not the whole union', () => {
    for (const [schema, key] of [[CompletionCreateParams, 'prompt'], [EmbeddingCreateParams, 'input']] as const) {
      const result = schema.safeParse({ model: 'm', [key]: [[1], []] })
      expect(result.success).toBe(false)
      expect(result.error!.issues).toHaveLength(1)
      expect(result.error!.issues[0]).toMatchObject({ code: 'too_small', origin: 'array', minimum: 1, path: [key, 1] })
    }
  })

  it('names the first bad id and takes 2048 arrays of ids', () => {
    const bad = EmbeddingCreateParams.safeParse({ model: 'm', input: [1, -2, 3] })
    expect(bad.success).toBe(false)
    expect(JSON.stringify(bad.error!.issues)).toContain('"path":[1]')
    const ok = EmbeddingCreateParams.safeParse({ model: 'm', input: Array.from({ length: 2048 }, () => [1, 2, 3]) })
    expect(ok.success).toBe(true)
  })
})
