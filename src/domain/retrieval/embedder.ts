import { invalidRequest } from '../../errors.js'
import type { ProviderRegistry } from '../../providers/registry.js'

/** Turns texts into unit-length float32 vectors with a store's embedding model. */
export class Embedder {
  constructor(private readonly registry: ProviderRegistry) {}

  /** Whether the model exists and can embed (checked when a store is created). */
  check(model: string, param = 'embedding_model') {
    const { card, provider } = this.registry.resolve(model)
    if (!card.capabilities.embeddings || !provider.embed) {
      throw invalidRequest(`The model \`${model}\` does not support embeddings.`, param, 'invalid_value')
    }
  }

  /** The texts' vectors, and the tokens the model counted (billed for search queries). */
  async embed(model: string, texts: string[], signal: AbortSignal): Promise<{ vectors: Float32Array[]; inputTokens: number }> {
    const { provider, upstreamModel } = this.registry.resolve(model)
    if (!provider.embed) throw new Error(`the model ${model} does not support embeddings`)
    const { embeddings, usage } = await provider.embed({ model: upstreamModel, inputs: texts, signal })
    return { vectors: embeddings.map(normalized), inputTokens: usage.inputTokens }
  }
}

/** Cosine is then a dot product, and the sign bits of the quantized index are comparable. */
function normalized(values: number[]): Float32Array {
  const out = Float32Array.from(values)
  let norm = 0
  for (const v of out) norm += v * v
  norm = Math.sqrt(norm)
  if (norm > 0 && Math.abs(norm - 1) > 1e-6) for (let i = 0; i < out.length; i++) out[i] /= norm
  return out
}
