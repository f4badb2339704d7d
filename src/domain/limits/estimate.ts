import type { ChatCompletionCreateParams } from '../../schemas/chat.js'
import type { CompletionCreateParams } from '../../schemas/completions.js'
import type { EmbeddingCreateParams } from '../../schemas/embeddings.js'

/**
 * Token estimates charged against tokens-per-minute before a request runs; the true count
 * replaces them when usage is recorded. Like OpenAI's limiter, they count characters (about 4 a
 * token) plus the most the request may generate, instead of tokenizing: the tokenizer costs more
 * than the rest of a proxied request, and the correction makes the charge exact anyway.
 */
const CHARS_PER_TOKEN = 4
/** an image part at low detail, OpenAI's base cost */
const IMAGE_TOKENS = 85

export function estimateChatTokens(params: ChatCompletionCreateParams): number {
  let chars = 0
  let extra = 0
  for (const message of params.messages) {
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') chars += content.length
    else if (Array.isArray(content)) {
      for (const part of content as { type: string; text?: string; refusal?: string }[]) {
        if (part.type === 'text') chars += part.text?.length ?? 0
        else if (part.type === 'refusal') chars += part.refusal?.length ?? 0
        else extra += IMAGE_TOKENS
      }
    }
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) chars += call.function.name.length + call.function.arguments.length
    }
  }
  if (params.tools?.length) chars += JSON.stringify(params.tools).length
  const maxOut = params.max_completion_tokens ?? params.max_tokens ?? 0
  return Math.ceil(chars / CHARS_PER_TOKEN) + extra + maxOut * (params.n ?? 1)
}

/** The legacy completions endpoint generates 16 tokens when max_tokens is not given. */
export function estimateCompletionTokens(params: CompletionCreateParams): number {
  const maxOut = params.max_tokens ?? 16
  const choices = Math.max(params.n ?? 1, params.best_of ?? 1)
  return inputTokens(params.prompt) + maxOut * choices
}

export function estimateEmbeddingTokens(params: EmbeddingCreateParams): number {
  return inputTokens(params.input)
}

/** Text counts by characters; token arrays count exactly. */
function inputTokens(input: string | string[] | number[] | number[][] | null | undefined): number {
  if (input == null) return 0
  if (typeof input === 'string') return Math.ceil(input.length / CHARS_PER_TOKEN)
  let tokens = 0
  for (const item of input as (string | number | number[])[]) {
    if (typeof item === 'string') tokens += Math.ceil(item.length / CHARS_PER_TOKEN)
    else if (typeof item === 'number') tokens += 1
    else tokens += item.length
  }
  return tokens
}

/**
 * A Responses request before its conversation is rebuilt: the text it sends (its JSON, an
 * overestimate that the settled count corrects) and the output it may generate. The turns of a
 * `previous_response_id` are not read here; they are charged when usage settles.
 */
export function estimateResponseTokens(params: { input: unknown; instructions?: string | null; tools?: unknown[]; max_output_tokens?: number | null }): number {
  const input = typeof params.input === 'string' ? params.input.length : JSON.stringify(params.input).length
  const tools = params.tools?.length ? JSON.stringify(params.tools).length : 0
  const chars = input + (params.instructions?.length ?? 0) + tools
  return Math.ceil(chars / CHARS_PER_TOKEN) + (params.max_output_tokens ?? 0)
}
