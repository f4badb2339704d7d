import type { LlamaContextSequence, LlamaGrammar, Token, TokenBias } from 'node-llama-cpp'
import type { SlotQueue } from './slot-queue.js'
import type { Sampling, StreamPart } from '../provider.js'
import { alignSequence, generateText, type GenerationEnd } from './generate.js'
import { grammarState } from './grammar.js'
import type { LoadedModel } from './loaded-model.js'
import { choiceSeed, evaluateOptions } from './sampling.js'

/** One request's share of a model: its sequence, its prompt and how to sample. */
export type ChoiceJob = {
  loaded: LoadedModel
  /** The sequences of the context the request runs in (the base model's, or an adapter's). */
  slots: SlotQueue<LlamaContextSequence>
  sequence: LlamaContextSequence
  prompt: Token[]
  /** Template and request stop sequences. */
  stops: string[]
  stopTokens: ReadonlySet<number>
  sampling: Sampling
  /** Tokens a choice may generate: max_tokens, or what is left of the context. */
  maxTokens: number
  tokenBias?: TokenBias
  signal: AbortSignal
}

/** Generates with `job`'s settings from `prompt`; yields the pieces, returns how it ended. */
export async function sample(
  job: ChoiceJob,
  choice: number,
  prompt: Token[],
  options: { maxTokens: number; stops?: string[]; grammar?: LlamaGrammar; logprobs?: boolean },
) {
  const generated: Token[] = []
  const evaluate = evaluateOptions(
    job.sampling,
    choiceSeed(job.sampling, choice),
    generated,
    job.tokenBias,
  )
  if (options.grammar)
    evaluate.grammarEvaluationState = await grammarState(job.loaded.model, options.grammar)
  const input = await alignSequence(job.sequence, prompt)
  return generateText(job.loaded.model, job.sequence, input, prompt, {
    // never past the end of the sequence: there a context shift would drop the prompt's start
    maxTokens: Math.min(options.maxTokens, job.loaded.contextSize - prompt.length),
    stops: options.stops ?? job.stops,
    stopTokens: job.stopTokens,
    evaluate,
    logprobs:
      options.logprobs && job.sampling.logprobs ? (job.sampling.topLogprobs ?? 0) : undefined,
    signal: job.signal,
    generated,
    shared: () => job.slots.busy > 1,
  })
}

/** A plain (or grammar-constrained JSON) answer: text deltas, then the finish reason. */
export async function* textChoice(
  job: ChoiceJob,
  choice: number,
  grammar?: LlamaGrammar,
): AsyncGenerator<StreamPart, number> {
  const pieces = await sample(job, choice, job.prompt, {
    maxTokens: job.maxTokens,
    grammar,
    logprobs: true,
  })
  let end: GenerationEnd
  for (;;) {
    const next = await pieces.next()
    if (next.done) {
      end = next.value
      break
    }
    const piece = next.value
    if (piece.logprobs) {
      if (piece.text || piece.logprobs.length)
        yield { type: 'text-delta', choice, text: piece.text, logprobs: piece.logprobs }
    } else if (piece.text) yield { type: 'text-delta', choice, text: piece.text }
  }
  yield { type: 'choice-end', choice, finishReason: end.finishReason }
  return end.tokens.length
}
