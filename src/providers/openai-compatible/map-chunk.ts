import type { FinishReason, StreamPart, TokenLogprob, Usage } from '../provider.js'
import type {
  WireChatChoice,
  WireChatChunk,
  WireCompletionChoice,
  WireCompletionChunk,
  WireLegacyLogprobs,
  WireTokenLogprob,
  WireUsage,
} from './wire.js'

/**
 * Upstream chat chunks → StreamParts. Usage is held back and read once the stream ends: some
 * servers (vLLM `continuous_usage_stats`) repeat it on every chunk, and the domain must see it once.
 */
export class ChatChunkReader {
  usage: Usage | undefined
  // some servers repeat a tool call's name on every chunk; the accumulator would concatenate it
  private readonly namedToolCalls = new Set<string>()

  read(chunk: WireChatChunk): StreamPart[] {
    if (chunk.usage) this.usage = toUsage(chunk.usage)
    const parts: StreamPart[] = []
    if (chunk.choices) for (const choice of chunk.choices) this.readChoice(choice, parts)
    return parts
  }

  private readChoice(wire: WireChatChoice, parts: StreamPart[]) {
    const choice = wire.index ?? 0
    const delta = wire.delta
    if (delta) {
      const logprobs = wire.logprobs?.content
      if (delta.content || logprobs?.length) {
        const part: StreamPart = { type: 'text-delta', choice, text: delta.content ?? '' }
        if (logprobs?.length) part.logprobs = logprobs.map(toTokenLogprob)
        parts.push(part)
      }
      if (delta.refusal) parts.push({ type: 'refusal-delta', choice, text: delta.refusal })
      if (delta.tool_calls) {
        delta.tool_calls.forEach((call, position) => {
          const index = call.index ?? position
          const key = `${choice}:${index}`
          const name = this.namedToolCalls.has(key) ? undefined : (call.function?.name ?? undefined)
          if (name) this.namedToolCalls.add(key)
          parts.push({
            type: 'tool-call-delta',
            choice,
            index,
            id: call.id ?? undefined,
            name,
            argumentsDelta: call.function?.arguments ?? '',
          })
        })
      }
    }
    if (wire.finish_reason)
      parts.push({ type: 'choice-end', choice, finishReason: toFinishReason(wire.finish_reason) })
  }
}

/** Upstream legacy completion chunks → StreamParts (usage held back as for chat). */
export class CompletionChunkReader {
  usage: Usage | undefined

  read(chunk: WireCompletionChunk): StreamPart[] {
    if (chunk.usage) this.usage = toUsage(chunk.usage)
    const parts: StreamPart[] = []
    if (chunk.choices) for (const choice of chunk.choices) completionChoiceParts(choice, parts)
    return parts
  }
}

/** A non-streamed chat completion as the parts its stream would have had. */
export function chatCompletionParts(body: {
  choices?: WireChatChoice[] | null
  usage?: WireUsage | null
}): StreamPart[] {
  const parts: StreamPart[] = []
  for (const wire of body.choices ?? []) {
    const choice = wire.index ?? 0
    const message = wire.message
    const logprobs = wire.logprobs?.content
    if (message?.content || logprobs?.length) {
      const part: StreamPart = { type: 'text-delta', choice, text: message?.content ?? '' }
      if (logprobs?.length) part.logprobs = logprobs.map(toTokenLogprob)
      parts.push(part)
    }
    if (message?.refusal) parts.push({ type: 'refusal-delta', choice, text: message.refusal })
    message?.tool_calls?.forEach((call, index) => {
      parts.push({
        type: 'tool-call-delta',
        choice,
        index,
        id: call.id ?? undefined,
        name: call.function?.name ?? undefined,
        argumentsDelta: call.function?.arguments ?? '',
      })
    })
    parts.push({ type: 'choice-end', choice, finishReason: toFinishReason(wire.finish_reason) })
  }
  if (body.usage) parts.push({ type: 'usage', usage: toUsage(body.usage) })
  return parts
}

/** A non-streamed legacy completion as StreamParts. */
export function completionParts(body: {
  choices?: WireCompletionChoice[] | null
  usage?: WireUsage | null
}): StreamPart[] {
  const parts: StreamPart[] = []
  for (const wire of body.choices ?? []) completionChoiceParts(wire, parts, 'stop')
  if (body.usage) parts.push({ type: 'usage', usage: toUsage(body.usage) })
  return parts
}

function completionChoiceParts(
  wire: WireCompletionChoice,
  parts: StreamPart[],
  finishDefault?: string,
) {
  const choice = wire.index ?? 0
  const logprobs = wire.logprobs ? fromLegacyLogprobs(wire.logprobs) : undefined
  if (wire.text || logprobs?.length) {
    const part: StreamPart = { type: 'text-delta', choice, text: wire.text ?? '' }
    if (logprobs?.length) part.logprobs = logprobs
    parts.push(part)
  }
  const finish = wire.finish_reason ?? finishDefault
  if (finish) parts.push({ type: 'choice-end', choice, finishReason: toFinishReason(finish) })
}

export const FINISH_REASONS = new Set<string>([
  'stop',
  'length',
  'tool_calls',
  'content_filter',
  'function_call',
])

/** Servers invent their own reasons ('eos', 'abort'); anything unknown reads as a normal stop. */
export function toFinishReason(reason: string | null | undefined): FinishReason {
  return reason && FINISH_REASONS.has(reason) ? (reason as FinishReason) : 'stop'
}

export function toUsage(wire: WireUsage): Usage {
  const usage: Usage = {
    inputTokens: wire.prompt_tokens ?? 0,
    outputTokens: wire.completion_tokens ?? 0,
  }
  const cached = wire.prompt_tokens_details?.cached_tokens
  const reasoning = wire.completion_tokens_details?.reasoning_tokens
  if (cached) usage.cachedTokens = cached
  if (reasoning) usage.reasoningTokens = reasoning
  return usage
}

function toTokenLogprob(wire: WireTokenLogprob): TokenLogprob {
  return {
    token: wire.token,
    logprob: wire.logprob,
    bytes: wire.bytes ?? null,
    top_logprobs: (wire.top_logprobs ?? []).map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: t.bytes ?? null,
    })),
  }
}

/** Legacy `{ tokens, token_logprobs, top_logprobs }` columns → one TokenLogprob per token. */
export function fromLegacyLogprobs(wire: WireLegacyLogprobs): TokenLogprob[] {
  const tokens = wire.tokens ?? []
  return tokens.map((token, i) => {
    const logprob = wire.token_logprobs?.[i]
    const entry: TokenLogprob = {
      token,
      logprob: logprob ?? 0,
      bytes: Array.from(Buffer.from(token, 'utf8')),
      top_logprobs: Object.entries(wire.top_logprobs?.[i] ?? {}).map(([t, logprob]) => ({
        token: t,
        logprob,
        bytes: Array.from(Buffer.from(t, 'utf8')),
      })),
    }
    // an echoed prompt's first token: null stays null, where 0 would read as certainty
    if (logprob === null) entry.unscored = true
    return entry
  })
}
