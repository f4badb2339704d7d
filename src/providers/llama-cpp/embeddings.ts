import type { Token } from 'node-llama-cpp'
import { invalidRequest } from '../../errors.js'
import type { EmbedCall, EmbedResult } from '../provider.js'
import { contextTooLong, notAnEmbeddingModel } from './errors.js'
import type { LoadedModel } from './loaded-model.js'

/**
 * /v1/embeddings from a GGUF model: llama.cpp's embedding of each input (pooled as the model
 * says), as a unit vector like OpenAI's. `dimensions` keeps the first components and
 * renormalises, as OpenAI's shortening of text-embedding-3 vectors does.
 */
export async function embed(loaded: LoadedModel, call: EmbedCall): Promise<EmbedResult> {
  if (!loaded.settings.embeddings) throw notAnEmbeddingModel(loaded.id)
  const size = loaded.model.embeddingVectorSize
  if (call.dimensions !== undefined && call.dimensions > size) {
    throw invalidRequest(
      `Invalid 'dimensions': integer above maximum value. Expected a value <= ${size}, but got ${call.dimensions} instead.`,
      'dimensions',
      'integer_above_max_value',
    )
  }
  const { context, queue } = await loaded.embeddings()
  const inputs = call.inputs.map((input, i) => {
    const param = call.inputs.length > 1 ? `input[${i}]` : 'input'
    const value =
      typeof input === 'string' ? input : checkTokens(input, loaded.vocabularySize, param)
    const length = context.calculateInputLength(value)
    if (length >= loaded.contextSize) throw contextTooLong(loaded.contextSize, length, param)
    return { value, length }
  })
  const held = await queue.acquire(call.signal)
  try {
    const embeddings: number[][] = []
    for (const input of inputs) {
      if (call.signal.aborted) throw call.signal.reason
      const { vector } = await held.getEmbeddingFor(input.value)
      embeddings.push(normalize(vector.slice(0, call.dimensions ?? vector.length)))
    }
    return {
      embeddings,
      usage: { inputTokens: inputs.reduce((sum, input) => sum + input.length, 0) },
    }
  } finally {
    queue.release(held)
  }
}

export function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0))
  return norm > 0 ? vector.map((v) => v / norm) : [...vector]
}

function checkTokens(tokens: number[], vocabularySize: number, param: string): Token[] {
  const bad = tokens.find((t) => t >= vocabularySize)
  if (bad !== undefined) {
    throw invalidRequest(
      `Invalid token in '${param}': ${bad} is not a token of this model's vocabulary.`,
      param,
      'invalid_value',
    )
  }
  return tokens as Token[]
}
