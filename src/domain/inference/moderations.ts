import { randomBytes } from 'node:crypto'
import { ApiError, judgeAnswerInvalid, notAModerationModel, tooManyModerationImages } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import type { ProjectPrincipal } from '../../principal.js'
import { JudgeAnswerError } from '../../providers/lexicon-moderation/judge.js'
import type { JudgeChat, ModerationItem } from '../../providers/moderation-backend.js'
import type { ProviderRegistry, ResolvedModel } from '../../providers/registry.js'
import { countTokensAsync } from '../../providers/tokenizer.js'
import type { ModerationCreateParams } from '../../schemas/moderations.js'
import type { Reservation } from '../limits/service.js'
import type { ChatService } from './chat.js'
import type { UsageRecorder, UsageSink } from './usage.js'

type Options = {
  signal: AbortSignal
  requestId?: string
  batch?: boolean
  /** The request's rate limit hold: told the true token count once usage is known. */
  limit?: Pick<Reservation, 'settle'>
  usageSink?: UsageSink
}

/** Images one request may hold, as at OpenAI (omni-moderation). */
const MAX_IMAGES = 1
const CHARS_PER_TOKEN = 4

/** The rate limit charge before the request runs: characters / 4, like the other estimates. */
export function estimateModerationTokens(params: ModerationCreateParams): number {
  const input = params.input
  if (typeof input === 'string') return Math.ceil(input.length / CHARS_PER_TOKEN)
  let chars = 0
  for (const item of input) chars += typeof item === 'string' ? item.length : item.type === 'text' ? item.text.length : 0
  return Math.ceil(chars / CHARS_PER_TOKEN)
}

/**
 * POST /v1/moderations: the offline lexicon, a judge chat model, or an upstream's moderation
 * model (docs/moderation.md). Usage is counted like embeddings: the o200k tokens of the texts.
 */
export class ModerationsService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
    private readonly chat: ChatService,
    private readonly judgeModel: string | undefined,
  ) {}

  async create(principal: ProjectPrincipal, params: ModerationCreateParams, options: Options) {
    const { card, provider, upstreamModel } = this.resolve(principal, params.model)
    if (!card.capabilities.moderation || !provider.moderate) throw notAModerationModel(params.model)
    const items = toItems(params.input)
    const images = items.reduce((sum, item) => sum + item.imageUrls.length, 0)
    if (images > MAX_IMAGES) throw tooManyModerationImages(images, MAX_IMAGES)
    const inputTokens = await countInputTokens(items, options.signal)
    let answer
    try {
      answer = await provider.moderate({
        model: upstreamModel,
        publicModel: params.model,
        items,
        rawInput: params.input,
        signal: options.signal,
        judge: this.judgeModel === undefined ? undefined : this.judge(principal, this.judgeModel, options),
      })
    } catch (error) {
      if (error instanceof JudgeAnswerError) throw judgeAnswerInvalid(this.judgeModel ?? '', error.message)
      throw error
    }
    options.limit?.settle(inputTokens)
    void this.usage.record(
      principal,
      { operation: 'moderations', model: card.id, inputTokens, outputTokens: 0, batch: options.batch },
      options.usageSink,
    )
    return {
      id: `modr-${randomBytes(16).toString('hex')}`,
      // the model that served the request, as OpenAI names its snapshot: an upstream's own name
      model: answer.model ?? card.id,
      results: answer.results,
    }
  }

  private resolve(principal: ProjectPrincipal, model: string): ResolvedModel {
    try {
      return this.registry.resolve(model, principal.models)
    } catch (error) {
      // OpenAI's moderation endpoint answers an unknown model with its 400, not the usual 404
      if (error instanceof ApiError && error.code === 'model_not_found') throw notAModerationModel(model)
      throw error
    }
  }

  /** The judge chat model, asked through the chat service: same permissions, its own usage. */
  private judge(principal: ProjectPrincipal, model: string, options: Options): JudgeChat {
    return async ({ system, user, schemaName, schema }) => {
      const completion = await this.chat.create(
        principal,
        {
          model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
          temperature: 0,
          response_format: { type: 'json_schema', json_schema: { name: schemaName, schema, strict: true } },
        } as Parameters<ChatService['create']>[1],
        { signal: options.signal, requestId: options.requestId, batch: options.batch, usageSink: options.usageSink },
      )
      const content = completion.choices[0]?.message?.content
      if (typeof content !== 'string') throw new JudgeAnswerError('the answer had no text')
      return content
    }
  }
}

/** A string or strings: one result each. Multimodal parts: one result for all of them. */
function toItems(input: ModerationCreateParams['input']): ModerationItem[] {
  if (typeof input === 'string') return [{ texts: [input], imageUrls: [] }]
  if (input.every((item) => typeof item === 'string')) return (input as string[]).map((text) => ({ texts: [text], imageUrls: [] }))
  const item: ModerationItem = { texts: [], imageUrls: [] }
  for (const part of input as Exclude<(typeof input)[number], string>[]) {
    if (part.type === 'text') item.texts.push(part.text)
    else item.imageUrls.push(part.image_url.url)
  }
  return [item]
}

async function countInputTokens(items: ModerationItem[], signal: AbortSignal): Promise<number> {
  const pacer = new Pacer()
  let total = 0
  for (const item of items) {
    for (const text of item.texts) {
      await pacer.pace(signal)
      total += await countTokensAsync(text, { signal })
    }
  }
  return total
}
