import type { LlamaModel, Token } from 'node-llama-cpp'
import type { TokenLogprob } from '../provider.js'

const CONTEXT_TOKENS = 4

/**
 * Generated tokens → text, one piece per token where possible. A token that ends inside a
 * multi-byte character (byte-fallback vocabularies split emoji into bytes) is held until the
 * character is whole, and each token is decoded after the ones before it, so SentencePiece's
 * leading spaces come out right.
 */
export class TokenDecoder {
  private pending: Token[] = []
  private previous: Token[]

  constructor(
    private readonly model: LlamaModel,
    context: readonly Token[],
  ) {
    this.previous = context.slice(-CONTEXT_TOKENS)
  }

  /** The text of the tokens held so far, or undefined while a character is still incomplete. */
  push(token: Token): { text: string; tokens: Token[] } | undefined {
    this.pending.push(token)
    const text = this.model.detokenize(this.pending, false, this.previous)
    if (text.endsWith('\uFFFD') && this.pending.length < 8) return undefined
    return this.take(text)
  }

  /** Whatever is held at the end (an incomplete character stays as U+FFFD). */
  flush(): { text: string; tokens: Token[] } | undefined {
    if (!this.pending.length) return undefined
    return this.take(this.model.detokenize(this.pending, false, this.previous))
  }

  private take(text: string) {
    const tokens = this.pending
    this.pending = []
    const previous = this.previous
    for (const token of tokens) previous.push(token)
    if (previous.length > CONTEXT_TOKENS) previous.splice(0, previous.length - CONTEXT_TOKENS)
    return { text, tokens }
  }
}

/**
 * OpenAI's logprob entry for a sampled token, from llama.cpp's probabilities. With temperature 0
 * these are the model's own distribution (greedy decoding picks the top one).
 */
export function tokenLogprob(
  model: LlamaModel,
  token: Token,
  previous: readonly Token[],
  confidence: number | undefined,
  probabilities: Map<Token, number> | undefined,
  top: number,
): TokenLogprob {
  const text = (t: Token) => model.detokenize([t], false, previous.slice(-CONTEXT_TOKENS))
  const entry = (t: Token, p: number) => {
    const s = text(t)
    return { token: s, logprob: toLogprob(p), bytes: [...Buffer.from(s, 'utf8')] }
  }
  const chosen = entry(token, probabilities?.get(token) ?? confidence ?? 1)
  const alternatives: { token: string; logprob: number; bytes: number[] }[] = []
  if (probabilities && top > 0) {
    for (const [t, p] of probabilities) {
      if (alternatives.length >= top) break
      alternatives.push(entry(t, p))
    }
  }
  return { ...chosen, top_logprobs: alternatives }
}

function toLogprob(p: number): number {
  // OpenAI never sends -Infinity; a token the sampler could not pick gets its floor value
  return p > 0 ? Math.log(p) : -9999
}
