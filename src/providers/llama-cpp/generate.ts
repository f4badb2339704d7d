import type {
  LlamaContextSequence,
  LlamaModel,
  SequenceEvaluateOptions,
  Token,
} from 'node-llama-cpp'
import type { TokenLogprob } from '../provider.js'
import { StopBuffer } from './stop-buffer.js'
import { TokenDecoder, tokenLogprob } from './token-text.js'

export type GenerateOptions = {
  maxTokens: number
  /** Text that ends generation, never emitted (the request's `stop` and the template's own). */
  stops: readonly string[]
  /** Tokens that end generation besides the model's end-of-generation tokens. */
  stopTokens?: ReadonlySet<number>
  evaluate: SequenceEvaluateOptions
  /** Logprobs for each token, with this many alternatives; undefined for none. */
  logprobs?: number
  signal: AbortSignal
  /** Filled with each token as it is sampled (the repeat penalties read it while generating). */
  generated?: Token[]
  /** Whether other sequences of the model are generating too (see below). */
  shared?: () => boolean
}

export type TextPiece = { text: string; tokens: Token[]; logprobs?: TokenLogprob[] }

export type GenerationEnd = {
  /** 'stop': end of generation or a stop sequence; 'length': max_tokens reached. */
  finishReason: 'stop' | 'length'
  /** Every token sampled, a stop sequence's included. */
  tokens: Token[]
  /** The stop sequence that ended generation, if one did. */
  matched?: string
  /** The text emitted (stop sequence excluded). */
  text: string
  aborted: boolean
}

/**
 * Aligns the sequence's cache with `prompt` and returns the tokens still to evaluate: a prefix
 * already in the cache (a shared system prompt, the previous turn of a chat, the prompt of the
 * previous choice) is not evaluated again. The last prompt token is always evaluated anew, since
 * its logits are where sampling starts.
 */
export async function alignSequence(
  sequence: LlamaContextSequence,
  prompt: Token[],
): Promise<Token[]> {
  const keep = Math.min(
    sequence.compareContextTokens(prompt).firstDifferentIndex,
    prompt.length - 1,
  )
  if (keep < sequence.nextTokenIndex) {
    try {
      await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }])
    } catch {
      await sequence.clearHistory()
      return prompt
    }
  }
  return prompt.slice(sequence.nextTokenIndex)
}

/** How many tokens of `prompt` a sequence's cache already holds (to pick the best free one). */
export function cachedPrefix(sequence: LlamaContextSequence, prompt: Token[]): number {
  return sequence.compareContextTokens(prompt).firstDifferentIndex
}

/**
 * Generates from `input` (the prompt tokens not yet in the sequence) token by token, yielding
 * text pieces as soon as they are safe to show (see StopBuffer). Stops at the model's end of
 * generation, a stop sequence, max tokens, or when `signal` aborts; the result says which.
 */
export async function* generateText(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  input: Token[],
  context: readonly Token[],
  options: GenerateOptions,
): AsyncGenerator<TextPiece, GenerationEnd> {
  const tokens: Token[] = options.generated ?? []
  const decoder = new TokenDecoder(model, context)
  const buffer = new StopBuffer<{ tokens: Token[]; logprobs?: TokenLogprob[] }>(options.stops)
  // without stop sequences nothing is ever held back: pieces skip the buffer
  const direct = !buffer.watching
  const wantLogprobs = options.logprobs !== undefined
  const top = options.logprobs ?? 0
  const previous: Token[] = wantLogprobs ? context.slice(-4) : []
  let pendingLogprobs: TokenLogprob[] = []
  let finishReason: 'stop' | 'length' = 'stop'
  let stopped = false
  let matched: string | undefined
  let text = ''
  const toPiece = (p: {
    text: string
    data: { tokens: Token[]; logprobs?: TokenLogprob[] }
  }): TextPiece => {
    text += p.text
    return wantLogprobs
      ? { text: p.text, tokens: p.data.tokens, logprobs: p.data.logprobs ?? [] }
      : { text: p.text, tokens: p.data.tokens }
  }
  /** Text through the stop-sequence buffer: the pieces it lets out, and whether a stop matched. */
  function* throughStops(piece: string, pieceTokens: Token[]) {
    const result = buffer.push({ text: piece, data: { tokens: pieceTokens, logprobs: pendingLogprobs } })
    for (const out of result.emit) yield toPiece(out)
    if (result.stopped) {
      stopped = true
      matched = result.matched
    }
  }
  const steps = wantLogprobs
    ? sequence.evaluateWithMetadata(
        input,
        { confidence: true, probabilities: top > 0 },
        options.evaluate,
      )
    : sequence.evaluate(input, options.evaluate)
  if (options.maxTokens > 0 && !options.signal.aborted) {
    let next = steps.next()
    try {
      for (;;) {
        const result = await next
        if (result.done) break
        const step = result.value
        const token = typeof step === 'number' ? step : step.token
        if (options.stopTokens?.has(token)) break
        tokens.push(token)
        // the next token is decoded (in llama.cpp's thread) while this one becomes text and
        // travels to the client: without this overlap, Plinth's per-token work would add to
        // every token's time
        if (tokens.length < options.maxTokens) {
          next = steps.next()
          next.catch(() => undefined) // a failure is thrown where it is awaited, not as unhandled
          // with other sequences at work, their tokens arrive in the same turn: let them queue
          // their next decode too, so the batch leaves before this token is written out
          if (options.shared?.()) await new Promise((resolve) => setImmediate(resolve))
        }
        if (wantLogprobs) {
          if (typeof step !== 'number') {
            const meta = step as { confidence?: number; probabilities?: Map<Token, number> }
            pendingLogprobs.push(
              tokenLogprob(model, token, previous, meta.confidence, meta.probabilities, top),
            )
          }
          previous.push(token)
          if (previous.length > 4) previous.shift()
        }
        const decoded = decoder.push(token)
        if (decoded) {
          if (direct) {
            text += decoded.text
            yield wantLogprobs
              ? { text: decoded.text, tokens: decoded.tokens, logprobs: pendingLogprobs }
              : { text: decoded.text, tokens: decoded.tokens }
          } else {
            yield* throughStops(decoded.text, decoded.tokens)
            if (stopped) break
          }
          if (wantLogprobs) pendingLogprobs = []
        }
        if (tokens.length >= options.maxTokens) {
          finishReason = 'length'
          break
        }
        if (options.signal.aborted) break
      }
    } finally {
      // waits for a decode still running, so the sequence is idle when it is handed on
      await steps.return()
    }
  }
  if (!stopped) {
    const rest = decoder.flush()
    if (rest) yield* throughStops(rest.text, rest.tokens)
    if (!stopped) for (const piece of buffer.flush()) yield toPiece(piece)
  }
  if (stopped) finishReason = 'stop'
  return { finishReason, tokens, matched, text, aborted: options.signal.aborted }
}
