import { noteFirstToken, type RequestRecord } from '../../request-context.js'
import { randomChars } from '../../storage/ids.js'
import type { FinishReason, StreamPart, TokenLogprob, Usage } from '../../providers/provider.js'
import { newId } from '../../storage/ids.js'
import { answerLogprobsTooLarge } from '../../errors.js'

export const SYSTEM_FINGERPRINT = 'fp_plinth'

/** Time-sortable, because stored completions are listed by keyset pagination on the id. */
export function completionId(prefix: 'chatcmpl-' | 'cmpl-'): string {
  return newId(prefix)
}

export type WireUsage = {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number }
  completion_tokens_details: {
    reasoning_tokens: number
    audio_tokens: number
    accepted_prediction_tokens: number
    rejected_prediction_tokens: number
  }
}

export function toWireUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

type ToolCallState = { id: string; name: string; arguments: string }

/** One choice as it builds up; feeds both the non-streamed answer and stored completions. */
export type ChoiceState = {
  text: string
  refusal: string | null
  toolCalls: ToolCallState[]
  logprobs: TokenLogprob[] | null
  finishReason: FinishReason | null
}

/**
 * Log probabilities one accumulated answer may hold, counting each token and each of its
 * top_logprobs: n × 16k tokens × 21 entries would be gigabytes (an answer of 32 echoes of 1 MB
 * reached 2.9 GB). A streamed answer sends them as it goes and keeps none.
 */
export const MAX_ANSWER_LOGPROBS = 262_144

/** Collects StreamParts into per-choice state (used for non-streamed answers and for storing). */
export class ChoiceAccumulator {
  readonly choices: ChoiceState[] = []
  usage: Usage | undefined
  private logprobEntries = 0

  /** `logprobs`: keep the parts' log probabilities (the answer shows them), within MAX_ANSWER_LOGPROBS. */
  constructor(private readonly options: { logprobs: boolean } = { logprobs: true }) {}

  add(part: StreamPart) {
    if (part.type === 'usage') {
      this.usage = part.usage
      return
    }
    const choice = (this.choices[part.choice] ??= { text: '', refusal: null, toolCalls: [], logprobs: null, finishReason: null })
    switch (part.type) {
      case 'text-delta':
        choice.text += part.text
        if (part.logprobs && this.options.logprobs) {
          const logprobs = (choice.logprobs ??= [])
          for (const entry of part.logprobs) {
            this.logprobEntries += 1 + entry.top_logprobs.length
            if (this.logprobEntries > MAX_ANSWER_LOGPROBS) throw answerLogprobsTooLarge(MAX_ANSWER_LOGPROBS)
            logprobs.push(entry)
          }
        }
        break
      case 'refusal-delta':
        choice.refusal = (choice.refusal ?? '') + part.text
        break
      case 'tool-call-delta': {
        const call = (choice.toolCalls[part.index] ??= { id: '', name: '', arguments: '' })
        if (part.id) call.id = part.id
        if (part.name) call.name += part.name
        call.arguments += part.argumentsDelta
        break
      }
      case 'choice-end':
        choice.finishReason = part.finishReason
        break
    }
  }

  /** Every choice in index order (a choice that produced nothing is empty, not missing). */
  list(n: number): ChoiceState[] {
    return Array.from({ length: Math.max(n, this.choices.length) }, (_, i) => this.choices[i] ?? { text: '', refusal: null, toolCalls: [], logprobs: null, finishReason: 'stop' as const })
  }
}

export function chatMessage(choice: ChoiceState) {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: choice.toolCalls.length && !choice.text ? null : choice.text,
    refusal: choice.refusal,
    annotations: [],
  }
  if (choice.toolCalls.length) {
    message.tool_calls = choice.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }))
  }
  return message
}

/** StreamPart → ChatCompletionChunk choices, keeping OpenAI's first-chunk and tool-call shapes. */
export class ChatChunkMapper {
  private readonly started = new Set<number>()
  private readonly toolCallsStarted = new Set<string>()

  constructor(
    private readonly base: { id: string; created: number; model: string },
    private readonly includeUsage: boolean,
    /** The request streamed to, told of its first token (time to first token). */
    private readonly record?: RequestRecord,
  ) {}

  chunk(choices: unknown[], usage?: WireUsage | null) {
    const chunk: Record<string, unknown> = {
      id: this.base.id,
      object: 'chat.completion.chunk',
      created: this.base.created,
      model: this.base.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
    }
    if (this.includeUsage) chunk.usage = usage ?? null
    return chunk
  }

  /** The chunks one part becomes (none for usage parts: the final usage chunk comes at the end). */
  map(part: StreamPart): Record<string, unknown>[] {
    if (part.type === 'usage') return []
    const out: Record<string, unknown>[] = []
    const index = part.choice
    const first = !this.started.has(index)
    if (first) {
      this.started.add(index)
      if (this.started.size === 1) noteFirstToken(this.record)
    }
    const choice = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      this.chunk([{ index, delta, logprobs: null, finish_reason: null, ...extra }])
    switch (part.type) {
      case 'text-delta':
        if (first) out.push(choice({ role: 'assistant', content: '', refusal: null }))
        out.push(choice({ content: part.text }, part.logprobs ? { logprobs: { content: part.logprobs, refusal: null } } : {}))
        break
      case 'refusal-delta':
        if (first) out.push(choice({ role: 'assistant', content: null, refusal: '' }))
        out.push(choice({ refusal: part.text }))
        break
      case 'tool-call-delta': {
        const key = `${index}:${part.index}`
        const call: Record<string, unknown> = { index: part.index }
        if (!this.toolCallsStarted.has(key)) {
          this.toolCallsStarted.add(key)
          call.id = part.id ?? `call_${randomChars(24)}`
          call.type = 'function'
          call.function = { name: part.name ?? '', arguments: part.argumentsDelta }
        } else {
          call.function = { arguments: part.argumentsDelta }
        }
        out.push(choice(first ? { role: 'assistant', content: null, tool_calls: [call] } : { tool_calls: [call] }))
        break
      }
      case 'choice-end':
        if (first) out.push(choice({ role: 'assistant', content: '', refusal: null }))
        out.push(choice({}, { finish_reason: part.finishReason }))
        break
    }
    return out
  }
}
