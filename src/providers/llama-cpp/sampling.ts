import { randomInt } from 'node:crypto'
import type { LlamaModel, SequenceEvaluateOptions, Token, TokenBias } from 'node-llama-cpp'
import { invalidRequest } from '../../errors.js'
import type { Sampling } from '../provider.js'
import { nodeLlamaCpp } from './engine.js'

/**
 * The seed of choice `index`: the request's seed (so the same seed gives the same output) or a
 * fresh random one. node-llama-cpp's own default is the current second, which would give two
 * requests in the same second the same "random" text. Choices differ by their index.
 */
export function choiceSeed(sampling: Sampling, index: number): number {
  if (sampling.seed === undefined) return randomInt(0, 2 ** 31)
  return (((sampling.seed + index) % 2 ** 32) + 2 ** 32) % 2 ** 32
}

/**
 * OpenAI's sampling parameters as llama.cpp sampler settings. OpenAI samples from the whole
 * distribution (no top-k) with temperature 1 and top_p 1 unless told otherwise; temperature 0
 * is greedy. Presence and frequency penalties count the tokens generated so far, as OpenAI's do.
 */
export function evaluateOptions(
  sampling: Sampling,
  seed: number,
  generated: Token[],
  tokenBias: TokenBias | undefined,
): SequenceEvaluateOptions {
  const options: SequenceEvaluateOptions = {
    temperature: sampling.temperature ?? 1,
    topP: sampling.topP ?? 1,
    topK: 0,
    minP: 0,
    seed,
    tokenBias,
  }
  if (sampling.presencePenalty || sampling.frequencyPenalty) {
    options.repeatPenalty = {
      punishTokens: () => generated,
      maxPunishTokens: Math.max(64, Math.min(sampling.maxTokens ?? 256, 4096)),
      penalty: 1,
      presencePenalty: sampling.presencePenalty ?? 0,
      frequencyPenalty: sampling.frequencyPenalty ?? 0,
    }
  }
  return options
}

/**
 * logit_bias → llama.cpp's logit biases (added to the logits, as OpenAI does); -100 bans a
 * token. Keys are token ids of this model's own vocabulary; any other key is a 400.
 */
export async function tokenBiasFor(
  model: LlamaModel,
  vocabularySize: number,
  logitBias: Record<string, number> | undefined,
): Promise<TokenBias | undefined> {
  if (!logitBias || !Object.keys(logitBias).length) return undefined
  const { TokenBias } = await nodeLlamaCpp()
  const bias = new TokenBias(model.tokenizer)
  for (const [key, value] of Object.entries(logitBias)) {
    const token = Number(key)
    if (!/^\d+$/.test(key) || token >= vocabularySize) {
      throw invalidRequest(
        `Invalid key in 'logit_bias': '${key}' is not a token id of this model's vocabulary (0 to ${vocabularySize - 1}).`,
        'logit_bias',
        'invalid_value',
      )
    }
    bias.set(token as Token, value <= -100 ? 'never' : { logit: value })
  }
  return bias
}
