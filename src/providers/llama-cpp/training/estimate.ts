import type { GgufHeader } from './gguf.js'
import { loraTargets, targetShape, type LlamaShape } from './llama-model.js'
import { LORA_RANK } from './lora.js'

/** The worker's own heap and code, measured at about 40 MB on stories260K; kept generous. */
const WORKER_OVERHEAD = 64 * 1024 * 1024

/**
 * Peak RAM of a training run on sequences of up to `tokens` tokens: the weights as F32, the LoRA pairs with their gradients and two AdamW moments, and one sequence's
 * tape (each block keeps about 14·dim + 5·ffn floats per token, with as much again in gradients
 * during the backward pass, plus heads·T² attention probabilities; the output layer's logits and
 * their gradient for every token).
 */
export function trainingBytes(header: GgufHeader, shape: LlamaShape, tokens: number): number {
  const params = header.tensors.reduce((n, t) => n + t.ne.reduce((a, b) => a * b, 1), 0)
  const loraParams = loraTargets(shape).reduce((n, name) => {
    const [nIn, nOut] = targetShape(shape, name)
    return n + LORA_RANK * (nIn + nOut)
  }, 0)
  const perTokenLayer = 2 * (14 * shape.dim + 5 * shape.ffn)
  const attention = shape.heads * tokens * tokens
  const activations = shape.layers * (perTokenLayer * tokens + attention) + 2 * tokens * shape.vocab
  return WORKER_OVERHEAD + 4 * params + 16 * loraParams + 4 * activations
}
