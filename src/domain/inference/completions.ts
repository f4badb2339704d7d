import { echoWithLogprobs, invalidRequest, notACompletionsModel, unsupportedParameter } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { StreamPart, TokenLogprob } from '../../providers/provider.js'
import type { ProviderRegistry, ResolvedModel } from '../../providers/registry.js'
import { Pacer } from '../../pacing.js'
import { countTokens, countTokensAsync, minTokens } from '../../providers/tokenizer.js'
import { promptContextExceeded } from '../../errors.js'
import { admitPrompt, checkOutputCap, type OutputAsk } from './context.js'
import type { CompletionCreateParams } from '../../schemas/completions.js'
import { nowSeconds } from '../../storage/ids.js'
import { completionId, SYSTEM_FINGERPRINT } from './chunks.js'
import { decodeTokenInput } from './tokens.js'
import type { UsageRecorder, UsageSink } from './usage.js'
import type { Reservation } from '../limits/service.js'

type Options = {
  signal: AbortSignal
  batch?: boolean
  /** The request's rate limit hold: told the true token count once usage is known. */
  limit?: Pick<Reservation, 'settle'>
  /** Takes the request's usage instead of the recorder (batch lines: see UsageSink). */
  usageSink?: UsageSink
}

type LegacyLogprobs = {
  tokens: string[]
  /** null: an echoed prompt's first token (OpenAI's answer; the spec's type omits it) */
  token_logprobs: (number | null)[]
  top_logprobs: (Record<string, number> | null)[]
  text_offset: number[]
}

type Choice = { text: string; logprobs: LegacyLogprobs | null; finish_reason: string }


/** POST /v1/completions (legacy): each prompt of the request gets `n` choices, in prompt order. */
export class CompletionsService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
  ) {}

  async create(principal: ProjectPrincipal, params: CompletionCreateParams, options: Options) {
    const id = completionId('cmpl-')
    const created = nowSeconds()
    const choices: (Choice & { index: number })[] = []
    let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
    for await (const event of this.events(principal, params, options)) {
      if (event.type === 'usage') usage = event.usage
      else if (event.type === 'choice') choices[event.index] = { index: event.index, ...event.choice }
    }
    return {
      id,
      object: 'text_completion' as const,
      created,
      model: params.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
      usage,
    }
  }

  /** Streamed chunks; checked before the first one, so bad input is a plain 4xx. */
  chunks(principal: ProjectPrincipal, params: CompletionCreateParams, options: Options): AsyncIterable<Record<string, unknown>> {
    this.check(principal, params)
    return this.chunksOf(principal, params, options)
  }

  private async *chunksOf(principal: ProjectPrincipal, params: CompletionCreateParams, options: Options) {
    const base = { id: completionId('cmpl-'), object: 'text_completion', created: nowSeconds(), model: params.model, system_fingerprint: SYSTEM_FINGERPRINT }
    const includeUsage = Boolean(params.stream_options?.include_usage)
    for await (const event of this.events(principal, params, options)) {
      // @NOTE finish_reason is null until a choice ends, as OpenAI streams it, although the spec
      // reuses the non-nullable Completion type for chunks. Unlike chat chunks, legacy chunks carry
      // no `usage: null` (the spec's Completion.usage is not nullable): only the last one has usage.
      if (event.type === 'delta') {
        yield { ...base, choices: [{ text: event.text, index: event.index, logprobs: event.logprobs, finish_reason: null }] }
      } else if (event.type === 'choice') {
        yield { ...base, choices: [{ text: '', index: event.index, logprobs: null, finish_reason: event.choice.finish_reason }] }
      } else if (includeUsage) {
        yield { ...base, choices: [], usage: event.usage }
      }
    }
  }

  private check(principal: ProjectPrincipal, params: CompletionCreateParams): { resolved: ResolvedModel; prompts: string[] } {
    const resolved = this.registry.resolve(params.model, principal.models)
    if (!resolved.card.capabilities.completions) {
      throw notACompletionsModel(params.model, resolved.card.capabilities.chat)
    }
    for (const name of resolved.card.unsupportedCompletionParameters ?? []) {
      if (params[name as keyof CompletionCreateParams] != null) throw unsupportedParameter(name)
    }
    const n = params.n ?? 1
    if (params.best_of != null && params.best_of < n) {
      throw invalidRequest(`best_of must be greater than or equal to n. Got best_of=${params.best_of} and n=${n}.`, 'best_of')
    }
    if (params.stream && params.best_of != null && params.best_of > 1) {
      throw invalidRequest('Cannot stream results when best_of > 1.', 'stream')
    }
    // Plinth's own models give no log probabilities of the prompt, so the answer would cover the
    // completion only: refused as OpenAI refuses it. An upstream is the authority on its models:
    // it is sent `echo` and serves the pair or refuses it itself (upstreamEcho).
    if (upstreamEcho(params) && !resolved.provider.echoesPrompt) throw echoWithLogprobs()
    if (params.stream_options && !params.stream) {
      throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value')
    }
    checkOutputCap(resolved.card, legacyAsk(params))
    // a token prompt's length is its count: one over the context is refused before it is decoded
    const context = resolved.card.contextLength
    if (context !== undefined && Array.isArray(params.prompt) && params.prompt.length) {
      const lists = typeof params.prompt[0] === 'number' ? [params.prompt as number[]] : Array.isArray(params.prompt[0]) ? (params.prompt as number[][]) : []
      for (const tokens of lists) {
        if (tokens.length >= context) throw promptContextExceeded(context, tokens.length, legacyAsk(params).tokens ?? 0)
      }
    }
    return { resolved, prompts: promptsOf(params.prompt) }
  }

  private async *events(principal: ProjectPrincipal, params: CompletionCreateParams, options: Options) {
    const { resolved, prompts } = this.check(principal, params)
    const n = params.n ?? 1
    const stop = params.stop == null ? undefined : Array.isArray(params.stop) ? params.stop : [params.stop]
    // counted only when the provider reports no usage, and then once, at the end: o200k on every
    // token cost a local model's stream 6-10 µs a token
    // each prompt is checked against the context (context.ts), counted in slices once
    const promptTokens: (number | undefined)[] = []
    for (const prompt of prompts) {
      const admission = await admitPrompt(resolved.card, legacyAsk(params), minTokens(prompt.length), (atMost) => countTokensAsync(prompt, { atMost, signal: options.signal }), 'legacy')
      promptTokens.push(admission.promptTokens)
    }
    const pieces: string[] = []
    let counted: { input: number; output: number } | undefined
    const count = async () => {
      if (counted) return counted
      const pacer = new Pacer()
      let input = 0
      for (const [p, prompt] of prompts.entries()) input += promptTokens[p] ?? (await countTokensAsync(prompt))
      let output = 0
      for (const piece of pieces) {
        output += countTokens(piece)
        await pacer.pace()
      }
      return (counted = { input, output })
    }
    let reported: { input: number; output: number } | undefined
    let started = false
    try {
      for (const [p, prompt] of prompts.entries()) {
        const texts = new Map<number, Choice>()
        // the upstream's echo comes as the first text of each choice: Plinth adds none
        const echo = upstreamEcho(params)
        const localEcho = Boolean(params.echo) && !echo
        const call = {
          echo: echo || undefined,
          model: resolved.upstreamModel,
          prompt,
          sampling: {
            temperature: params.temperature ?? undefined,
            topP: params.top_p ?? undefined,
            // the legacy endpoint's default is 16 tokens
            maxTokens: legacyAsk(params).tokens,
            stop,
            seed: params.seed ?? undefined,
            n,
            presencePenalty: params.presence_penalty ?? undefined,
            frequencyPenalty: params.frequency_penalty ?? undefined,
            logitBias: params.logit_bias ?? undefined,
            logprobs: params.logprobs != null,
            topLogprobs: params.logprobs ?? undefined,
          },
          raw: { ...params, prompt, stream: undefined, stream_options: undefined } as Record<string, unknown>,
          signal: options.signal,
        }
        const provider = resolved.provider
        const parts: Iterable<StreamPart> | AsyncIterable<StreamPart> =
          !params.stream && provider.complete ? await provider.complete(call) : provider.stream(call)
        for await (const part of parts) {
          started = true
          if (part.type === 'usage') {
            reported = { input: (reported?.input ?? 0) + part.usage.inputTokens, output: (reported?.output ?? 0) + part.usage.outputTokens }
            continue
          }
          const index = p * n + part.choice
          const choice = texts.get(index) ?? { text: localEcho ? prompt : '', logprobs: params.logprobs != null ? emptyLogprobs() : null, finish_reason: 'stop' }
          if (!texts.has(index)) {
            texts.set(index, choice)
            if (localEcho) yield { type: 'delta' as const, index, text: prompt, logprobs: null }
          }
          if (part.type === 'text-delta') {
            const logprobs = choice.logprobs && part.logprobs ? appendLogprobs(choice.logprobs, choice.text.length, part.logprobs) : null
            choice.text += part.text
            if (!reported) pieces.push(part.text)
            yield { type: 'delta' as const, index, text: part.text, logprobs }
          } else if (part.type === 'choice-end') {
            choice.finish_reason = part.finishReason
            yield { type: 'choice' as const, index, choice }
          }
        }
      }
    } finally {
      if (started) {
        const { input, output } = reported ?? (await count())
        options.limit?.settle(input + output)
        // the answer does not wait for the row (UsageRecorder)
        void this.usage.record(principal, { operation: 'completions', model: params.model, inputTokens: input, outputTokens: output, batch: options.batch }, options.usageSink)
      }
    }
    const { input, output } = reported ?? (await count())
    yield { type: 'usage' as const, usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output } }
  }
}

/**
 * `echo` with `logprobs` asks for the prompt's log probabilities, which only the backend has: an
 * upstream (Provider.echoesPrompt) is sent `echo` then. `echo` alone is Plinth's, which serves
 * it on every backend (Ollama and llama.cpp's server ignore `echo`).
 */
function upstreamEcho(params: CompletionCreateParams): boolean {
  return Boolean(params.echo) && params.logprobs != null
}

/** The legacy endpoint generates 16 tokens when max_tokens is not given. */
function legacyAsk(params: CompletionCreateParams): OutputAsk {
  return { param: 'max_tokens', tokens: params.max_tokens ?? 16 }
}

function promptsOf(prompt: CompletionCreateParams['prompt']): string[] {
  // the spec's default prompt is <|endoftext|>: a null prompt means "start of a document"
  if (prompt == null) return ['<|endoftext|>']
  if (typeof prompt === 'string') return [prompt]
  if (prompt.length && typeof prompt[0] === 'number') return [decodeTokenInput(prompt as number[], 'prompt')]
  if (prompt.length && Array.isArray(prompt[0])) return (prompt as number[][]).map((tokens) => decodeTokenInput(tokens, 'prompt'))
  if (!prompt.length) return ['']
  return prompt as string[]
}

function emptyLogprobs(): LegacyLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] }
}

/** Adds tokens to the legacy logprobs object; returns the part added (what a chunk carries). */
function appendLogprobs(target: LegacyLogprobs, offset: number, tokens: TokenLogprob[]): LegacyLogprobs {
  const delta = emptyLogprobs()
  let at = offset
  for (const t of tokens) {
    const top = Object.fromEntries(t.top_logprobs.map((x) => [x.token, x.logprob]))
    for (const target_ of [target, delta]) {
      target_.tokens.push(t.token)
      target_.token_logprobs.push(t.unscored ? null : t.logprob)
      target_.top_logprobs.push(t.unscored ? null : top)
      target_.text_offset.push(at)
    }
    at += t.token.length
  }
  return delta
}
