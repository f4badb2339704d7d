import type { LlamaContextSequence, LlamaGrammar, Token, TokenBias } from 'node-llama-cpp'
import type { SlotQueue } from './slot-queue.js'
import type { Sampling, StreamPart } from '../provider.js'
import { answerFailedSchema } from '../../errors.js'
import { alignSequence, generateText, type GenerationEnd, type TextPiece } from './generate.js'
import { grammarState } from './grammar.js'
import type { CompiledSchema } from './json-schema.js'
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
  options: {
    maxTokens: number
    stops?: string[]
    grammar?: LlamaGrammar
    logprobs?: boolean
    /** A retry of the same choice: another seed. */
    attempt?: number
  },
) {
  const generated: Token[] = []
  const evaluate = evaluateOptions(
    job.sampling,
    choiceSeed(job.sampling, choice + (options.attempt ?? 0) * 65_536),
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

/** A grammar and the schema it was built from, checked on every answer it constrains. */
export type SchemaGrammar = { grammar: LlamaGrammar; schema: CompiledSchema; param: string }

/** Generations of an answer whose grammar is not exact, before the request fails. */
const MAX_ATTEMPTS = 3

/**
 * An answer generated under a schema's grammar, then parsed and checked against the schema (the
 * last line of defence: a grammar bug must never reach the client as a valid-looking answer).
 * With an exact grammar the pieces stream as they come and a failed check fails the request.
 * With an inexact one (see CompiledSchema.exact) the answer is held back until it passes, and
 * generated again with another seed, up to MAX_ATTEMPTS times. An answer cut off by max_tokens
 * is passed on unchecked (finish_reason 'length' says it is incomplete).
 */
export async function* checkedSample(
  job: ChoiceJob,
  choice: number,
  prompt: Token[],
  options: { maxTokens: number; logprobs?: boolean },
  format: SchemaGrammar,
  toPart: (piece: TextPiece) => StreamPart | undefined,
): AsyncGenerator<StreamPart, { end: GenerationEnd; spent: number }> {
  const exact = format.schema.exact
  let spent = 0
  let failure = ''
  for (let attempt = 0; attempt < (exact ? 1 : MAX_ATTEMPTS); attempt++) {
    const pieces = await sample(job, choice, prompt, {
      ...options,
      stops: [],
      grammar: format.grammar,
      attempt,
    })
    const held: StreamPart[] = []
    let end: GenerationEnd
    for (;;) {
      const next = await pieces.next()
      if (next.done) {
        end = next.value
        break
      }
      const part = toPart(next.value)
      if (part && exact) yield part
      else if (part) held.push(part)
    }
    spent += end.tokens.length
    failure = end.finishReason === 'stop' ? schemaFailure(format.schema, end.text) ?? '' : ''
    if (!failure) {
      yield* held
      return { end, spent }
    }
  }
  throw answerFailedSchema(format.param, failure)
}

function schemaFailure(schema: CompiledSchema, text: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'it is not valid JSON'
  }
  return schema.check(value)
}

/** A plain (or grammar-constrained JSON) answer: text deltas, then the finish reason. */
export async function* textChoice(
  job: ChoiceJob,
  choice: number,
  format?: LlamaGrammar | SchemaGrammar,
): AsyncGenerator<StreamPart, number> {
  if (format && 'schema' in format) {
    const { end, spent } = yield* checkedSample(
      job,
      choice,
      job.prompt,
      { maxTokens: job.maxTokens, logprobs: true },
      format,
      (piece) => textPart(choice, piece),
    )
    yield { type: 'choice-end', choice, finishReason: end.finishReason }
    return spent
  }
  const grammar = format
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
    const part = textPart(choice, next.value)
    if (part) yield part
  }
  yield { type: 'choice-end', choice, finishReason: end.finishReason }
  return end.tokens.length
}

function textPart(choice: number, piece: TextPiece): StreamPart | undefined {
  if (piece.logprobs) {
    if (piece.text || piece.logprobs.length)
      return { type: 'text-delta', choice, text: piece.text, logprobs: piece.logprobs }
  } else if (piece.text) return { type: 'text-delta', choice, text: piece.text }
  return undefined
}
