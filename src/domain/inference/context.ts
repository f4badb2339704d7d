import { contextAndCompletionExceeded, contextLengthExceeded, maxTokensTooLarge, promptContextExceeded } from '../../errors.js'
import type { ModelCard } from '../../providers/provider.js'

/**
 * A model's context and output limits (ModelCard), checked before it is called. The order is
 * OpenAI's: a max_tokens over the output cap first (D5), then the prompt alone (D3), then the
 * prompt with the completion asked for (D4). The prompt is counted only for models that declare
 * a context, and a prompt whose lower bound (characters / 128) is already over it is refused
 * without being encoded; the message then gives that bound.
 */

export type OutputAsk = { param: 'max_tokens' | 'max_completion_tokens'; tokens: number | undefined }

/** D5: a completion cap over the model's. Cheap: runs with the other request checks. */
export function checkOutputCap(card: ModelCard, ask: OutputAsk): void {
  const cap = card.maxOutputTokens
  if (cap !== undefined && ask.tokens !== undefined && ask.tokens > cap) throw maxTokensTooLarge(ask.param, ask.tokens, cap)
}

export type Admission = {
  /** The prompt's tokens, when the model has a context (counted once, reused for usage). */
  promptTokens?: number
  /** The completion cap to generate with: the one asked for, or what the model and context leave. */
  maxTokens?: number
}

/**
 * Checks a prompt against the context. `lowerBound` is computed without encoding;
 * `count` encodes (in slices) and may stop once past `atMost`.
 */
export async function admitPrompt(
  card: ModelCard,
  ask: OutputAsk,
  lowerBound: number,
  count: (atMost: number) => Promise<number>,
  wording: 'chat' | 'legacy' = 'chat',
): Promise<Admission> {
  const context = card.contextLength
  if (context === undefined) return { maxTokens: ask.tokens ?? card.maxOutputTokens }
  const over = (prompt: number) =>
    wording === 'chat' ? contextLengthExceeded(context, prompt) : promptContextExceeded(context, prompt, ask.tokens ?? 0)
  if (lowerBound >= context) throw over(lowerBound)
  // counted to the end up to 4x the context, so the message can say how far over it is
  const prompt = await count(context * 4)
  if (prompt >= context) throw over(prompt)
  if (ask.tokens !== undefined && prompt + ask.tokens > context) {
    throw wording === 'chat' ? contextAndCompletionExceeded(context, prompt, ask.tokens) : promptContextExceeded(context, prompt, ask.tokens)
  }
  return { promptTokens: prompt, maxTokens: ask.tokens ?? Math.min(card.maxOutputTokens ?? Infinity, context - prompt) }
}
