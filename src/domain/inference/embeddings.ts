import { embeddingInputTooLong, embeddingTokensPerRequest, invalidRequest } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import type { ModelCard } from '../../providers/provider.js'
import { countTokensAsync, minTokens } from '../../providers/tokenizer.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { EmbeddingCreateParams } from '../../schemas/embeddings.js'
import type { UsageRecorder, UsageSink } from './usage.js'
import type { Reservation } from '../limits/service.js'

type Options = {
  signal: AbortSignal
  batch?: boolean
  /** The request's rate limit hold: told the true token count once usage is known. */
  limit?: Pick<Reservation, 'settle'>
  /** Takes the request's usage instead of the recorder (batch lines, run turns: see UsageSink). */
  usageSink?: UsageSink
}

/** POST /v1/embeddings: float or base64 (little-endian float32, what the SDK decodes). */
export class EmbeddingsService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
  ) {}

  async create(principal: ProjectPrincipal, params: EmbeddingCreateParams, options: Options) {
    const { card, provider, upstreamModel } = this.registry.resolve(params.model, principal.models)
    if (!card.capabilities.embeddings || !provider.embed) {
      throw invalidRequest(`The model \`${params.model}\` does not support embeddings.`, 'model', 'invalid_value')
    }
    const inputs = normalizeInput(params.input)
    // a string or one token array is `input` in error messages, a list's items `input[i]`
    const single = typeof params.input === 'string' || typeof params.input[0] === 'number'
    const tokenCounts = await admitInputs(card, inputs, single, options.signal)
    const result = await provider.embed({ model: upstreamModel, inputs, dimensions: params.dimensions, user: params.user, signal: options.signal, tokenCounts, publicModel: params.model })
    options.limit?.settle(result.usage.inputTokens)
    // the answer does not wait for the row (UsageRecorder)
    void this.usage.record(principal, {
      operation: 'embeddings',
      model: params.model,
      inputTokens: result.usage.inputTokens,
      outputTokens: 0,
      batch: options.batch,
    }, options.usageSink)
    const base64 = params.encoding_format === 'base64'
    return {
      object: 'list' as const,
      data: result.embeddings.map((vector, index) => ({
        object: 'embedding' as const,
        index,
        embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      })),
      model: params.model,
      usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
    }
  }
}

/**
 * An embedding model's limits (ModelCard): each input within the context (OpenAI: 8192 tokens),
 * all of them within the request's total (300,000). Counted in slices; a text whose lower bound
 * is already over the context is refused without being encoded.
 */
async function admitInputs(card: ModelCard, inputs: (string | number[])[], single: boolean, signal: AbortSignal): Promise<number[] | undefined> {
  const context = card.contextLength
  if (context === undefined && card.maxRequestTokens === undefined) return undefined
  const counts: number[] = []
  let total = 0
  const pacer = new Pacer()
  for (const [i, input] of inputs.entries()) {
    await pacer.pace(signal)
    const count =
      typeof input !== 'string'
        ? input.length
        : context !== undefined && minTokens(input.length) > context
          ? minTokens(input.length)
          : await countTokensAsync(input, { atMost: context === undefined ? undefined : context * 4, signal })
    if (context !== undefined && count > context) throw embeddingInputTooLong(single ? 'input' : `input[${i}]`, context)
    counts.push(count)
    total += count
  }
  if (card.maxRequestTokens !== undefined && total > card.maxRequestTokens) throw embeddingTokensPerRequest(total, card.maxRequestTokens)
  return counts
}

function normalizeInput(input: EmbeddingCreateParams['input']): (string | number[])[] {
  const list: (string | number[])[] =
    typeof input === 'string' ? [input] : typeof input[0] === 'number' ? [input as number[]] : (input as (string | number[])[])
  // OpenAI's current words, naming the item: `Invalid 'input[31]': input cannot be an empty
  // string.` (quoted from OpenAI in many 2026 projects; it was `'$.input' is invalid` until 2024).
  // A lone string is `input`; param is that path, code null (no full body found)
  const empty = list.findIndex((item) => item === '')
  if (empty >= 0) {
    const param = typeof input === 'string' ? 'input' : `input[${empty}]`
    throw invalidRequest(`Invalid '${param}': input cannot be an empty string.`, param)
  }
  return list
}
