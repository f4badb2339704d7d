import { ApiError, internal, ProviderError, upstreamFailed } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import { ChatCompletionCreateParams } from '../../schemas/chat.js'
import type { EvalApiError, ItemContent, SamplingParams, TemplateMessage } from '../../schemas/evals.js'
import { validate } from '../../schemas/validation.js'
import type { ChatCompletion, ChatService } from '../inference/chat.js'
import type { UsageEntry } from '../inference/usage.js'
import { estimateChatTokens } from '../limits/estimate.js'
import { underLimits, type EvalLimits } from './limited.js'
import { contentText, renderContent, type TemplateContext } from './template.js'

export type ChatMessage = { role: string; content: string | Record<string, unknown>[] }

/** One model call of a run: the answer and the usage it cost (billed with the output item). */
export type Sampled = { completion: ChatCompletion; usage: UsageEntry[]; text: string }

/**
 * Calls Plinth's own chat service (no HTTP): same models, same checks, same rate limits and
 * usage as a live request (limited.ts: a 429 of the limits is waited out); the usage goes to
 * `usage` instead of the recorder so it is written with the item.
 */
export class Sampler {
  constructor(
    private readonly chat: Pick<ChatService, 'create'>,
    private readonly principal: ProjectPrincipal,
    private readonly signal: AbortSignal,
    private readonly limits?: EvalLimits,
  ) {}

  get aborted(): boolean {
    return this.signal.aborted
  }

  throwIfAborted() {
    this.signal.throwIfAborted()
  }

  async sample(model: string, messages: ChatMessage[], extra: Record<string, unknown>): Promise<Sampled> {
    const usage: UsageEntry[] = []
    const params = validate(ChatCompletionCreateParams, { model, messages, ...extra })
    const completion = (await underLimits(this.limits, this.principal, model, estimateChatTokens(params), this.signal, (limit) =>
      this.chat.create(this.principal, params, { signal: this.signal, usageSink: (entry) => void usage.push(entry), limit }),
    )) as ChatCompletion
    const content = completion.choices[0]?.message?.content
    return { completion, usage, text: typeof content === 'string' ? content : '' }
  }
}

/** Template messages, rendered for one item, as Chat Completions messages. */
export function toChatMessages(template: TemplateMessage[], context: TemplateContext): ChatMessage[] {
  return template.map((message) => {
    const content = renderContent(message.content, context)
    return { role: message.role, content: chatContent(message.role, content) }
  })
}

function chatContent(role: string, content: ItemContent): ChatMessage['content'] {
  const parts = typeof content === 'string' ? [content] : Array.isArray(content) ? content : [content]
  // only a user message carries pictures and sound; everything else is its text
  if (role !== 'user' || parts.every((p) => typeof p === 'string' || p.type === 'input_text' || p.type === 'output_text')) {
    return contentText(content)
  }
  return parts.map((part) => {
    if (typeof part === 'string') return { type: 'text', text: part }
    switch (part.type) {
      case 'input_image':
        return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } }
      case 'input_audio':
        return { type: 'input_audio', input_audio: part.input_audio }
      default:
        return { type: 'text', text: part.text }
    }
  })
}

/** A message's text, as the sample's `input` shows it. */
export function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content
  return message.content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('')
}

/** The Chat Completions parameters of a data source's sampling_params. */
export function chatSampling(sampling: SamplingParams | undefined): Record<string, unknown> {
  if (!sampling) return {}
  const out: Record<string, unknown> = {}
  for (const key of ['temperature', 'top_p', 'seed', 'max_completion_tokens', 'reasoning_effort', 'response_format', 'tools'] as const) {
    if (sampling[key] !== undefined && sampling[key] !== null) out[key] = sampling[key]
  }
  // the Responses data source's text.format, in Chat Completions' shape
  const format = sampling.text?.format as Record<string, unknown> | undefined
  if (format && out.response_format === undefined) {
    if (format.type === 'json_schema') {
      const { type: _type, ...schema } = format
      out.response_format = { type: 'json_schema', json_schema: schema }
    } else out.response_format = format
  }
  return out
}

/** An error of a model call, as a sample or result shows it. */
export function toEvalError(error: unknown): EvalApiError {
  const apiError =
    error instanceof ApiError ? error : error instanceof ProviderError ? upstreamFailed(error) : internal('eval', error)
  return { code: apiError.code ?? apiError.type, message: apiError.message }
}
