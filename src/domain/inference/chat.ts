import { invalidRequest, notAChatModel, unsupportedParameter } from '../../errors.js'
import { JsonText } from '../../pacing.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { GenerateCall, ModelCard, PassthroughStream, Provider, StreamPart, Usage } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { ChatCompletionCreateParams, ChatMessageParam } from '../../schemas/chat.js'
import { checkChatStrictSchemas } from '../../schemas/strict-schema.js'
import { nowSeconds } from '../../storage/ids.js'
import type { StoredCompletions } from '../chat-store/service.js'
import {
  ChatChunkMapper,
  chatMessage,
  ChoiceAccumulator,
  completionId,
  SYSTEM_FINGERPRINT,
  toWireUsage,
} from './chunks.js'
import { SerializedChunks } from './serialized.js'
import { admitPrompt, checkOutputCap, type OutputAsk } from './context.js'
import {
  chatPromptLowerBound,
  countChatPromptTokens,
  countChatPromptTokensAsync,
  countCompletionTokens,
  countCompletionTokensAsync,
} from './tokens.js'
import type { UsageRecorder, UsageSink } from './usage.js'
import type { Reservation } from '../limits/service.js'

export type ChatOptions = {
  signal: AbortSignal
  batch?: boolean
  /** Kept with stored completions, as OpenAI's stored objects show it. */
  requestId?: string
  /** The request's rate limit hold: told the true token count once usage is known. */
  limit?: Pick<Reservation, 'settle'>
  /** Takes the request's usage instead of the recorder (batch lines, run turns: see UsageSink). */
  usageSink?: UsageSink
}

type Prepared = { card: ModelCard; provider: Provider; call: GenerateCall }

function outputAsk(params: ChatCompletionCreateParams): OutputAsk {
  if (params.max_completion_tokens != null) return { param: 'max_completion_tokens', tokens: params.max_completion_tokens }
  return { param: 'max_tokens', tokens: params.max_tokens ?? undefined }
}

/** Parameters whose presence (non-null) a model may decline, in the order they are checked. */
const CHECKED_PARAMETERS = [
  'audio', 'modalities', 'prediction', 'web_search_options', 'reasoning_effort', 'tools', 'tool_choice',
  'parallel_tool_calls', 'response_format', 'functions', 'function_call', 'logprobs', 'top_logprobs',
  'logit_bias', 'seed', 'presence_penalty', 'frequency_penalty', 'service_tier',
] as const

/** POST /v1/chat/completions: one code path for streamed, non-streamed and batch requests. */
export class ChatService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
    private readonly store: StoredCompletions,
  ) {}

  /** Checks the request and starts nothing: the model is called when the parts are iterated. */
  private prepare(principal: ProjectPrincipal, params: ChatCompletionCreateParams, options: ChatOptions): Prepared {
    // the project's model permissions apply to every path in: live, streamed, batch
    const { card, provider, upstreamModel } = this.registry.resolve(params.model, principal.models)
    if (!card.capabilities.chat) {
      throw notAChatModel()
    }
    // strict schemas are judged as OpenAI judges them, whatever serves the model
    checkChatStrictSchemas(params)
    checkSupported(card, params)
    checkConversation(params)
    checkOutputCap(card, outputAsk(params))
    return { card, provider, call: toGenerateCall(params, upstreamModel, options.signal) }
  }

  /**
   * The context check (context.ts): the prompt is counted in slices, once, and the count kept for
   * usage; the call gets the completion cap the model and the context leave.
   */
  private admit(params: ChatCompletionCreateParams, prepared: Prepared): number | undefined | Promise<number | undefined> {
    const { card, call } = prepared
    // a model without a known context (most upstream models) has nothing to count: no promise,
    // no walk of the messages (the proxied request's common case)
    if (card.contextLength === undefined) {
      call.sampling.maxTokens = outputAsk(params).tokens ?? card.maxOutputTokens
      return undefined
    }
    return admitPrompt(card, outputAsk(params), chatPromptLowerBound(params.messages, params.tools), (atMost) =>
      countChatPromptTokensAsync(params.messages, params.tools, { atMost, signal: call.signal }),
    ).then((admission) => {
      call.sampling.maxTokens = admission.maxTokens
      return admission.promptTokens
    })
  }

  async create(principal: ProjectPrincipal, params: ChatCompletionCreateParams, options: ChatOptions): Promise<ChatCompletion> {
    return (await this.createAnswer(principal, params, options, false)) as ChatCompletion
  }

  /**
   * The answer as the API sends it: a chat.completion object, or (`asText`) an upstream's answer
   * kept as its JSON text when the provider could rename it unparsed (JsonText).
   */
  async createAnswer(principal: ProjectPrincipal, params: ChatCompletionCreateParams, options: ChatOptions, asText = true): Promise<ChatCompletion | JsonText> {
    const prepared = this.prepare(principal, params, options)
    const { provider, call } = prepared
    const admitted = this.admit(params, prepared)
    const promptTokens = admitted instanceof Promise ? await admitted : admitted
    if (provider.passthroughComplete && !params.store) return this.passthroughCreate(principal, params, provider.passthroughComplete.bind(provider), call, options, asText)
    const parts = provider.complete ? fromPromise(provider.complete(call)) : provider.stream(call)
    const id = completionId('chatcmpl-')
    const created = nowSeconds()
    const accumulator = new ChoiceAccumulator({ logprobs: true })
    for await (const part of this.withUsage(principal, params, parts, options, accumulator, promptTokens)) void part
    const completion = toChatCompletion(id, created, params, accumulator)
    if (params.store) await this.store.save(principal, params, completion, options.requestId)
    return completion
  }

  /**
   * The wire chunks of a streamed answer, ending with the usage chunk when asked for. The request
   * is checked here, before the first chunk, so bad input is a plain 4xx and not a stream; the
   * context check runs as the first chunk is pulled, which the SSE writer does before answering.
   */
  chunks(principal: ProjectPrincipal, params: ChatCompletionCreateParams, options: ChatOptions): AsyncIterable<Record<string, unknown> | SerializedChunks> {
    const prepared = this.prepare(principal, params, options)
    // stored completions need the whole answer put together: those take the parts. Each path is
    // one generator that admits the prompt first: every chunk crosses one async layer less
    if (prepared.provider.passthrough && !params.store) return this.passthroughChunks(principal, params, prepared, options)
    return this.chunksOf(principal, params, prepared, options)
  }

  /** The upstream's own answer, renamed and completed (Provider.passthroughComplete), with usage. */
  private async passthroughCreate(
    principal: ProjectPrincipal,
    params: ChatCompletionCreateParams,
    passthroughComplete: NonNullable<Provider['passthroughComplete']>,
    call: GenerateCall,
    options: ChatOptions,
    asText: boolean,
  ): Promise<ChatCompletion | JsonText> {
    const answer = await passthroughComplete({ ...call, id: completionId('chatcmpl-'), publicModel: params.model })
    const usage = answer.usage ?? this.countUsage(params, accumulate(answer.parts()))
    this.recordUsage(principal, params, usage, options)
    if (asText && answer.serialize) return new JsonText(answer.serialize(toWireUsage(usage)))
    answer.body.usage = toWireUsage(usage)
    return answer.body as ChatCompletion
  }

  /** The upstream's own chunks, forwarded as texts (Provider.passthrough), then the usage chunk. */
  private async *passthroughChunks(
    principal: ProjectPrincipal,
    params: ChatCompletionCreateParams,
    prepared: Prepared,
    options: ChatOptions,
  ): AsyncGenerator<Record<string, unknown> | SerializedChunks> {
    const admitted = this.admit(params, prepared)
    if (admitted instanceof Promise) await admitted
    const { provider, call } = prepared
    const id = completionId('chatcmpl-')
    const created = nowSeconds()
    const stream = provider.passthrough!({ ...call, id, publicModel: params.model })
    let started = false
    try {
      for await (const frames of stream) {
        started = true
        yield new SerializedChunks(frames)
      }
    } finally {
      // as withUsage: recorded however the stream ends, once anything was streamed
      if (started) this.recordUsage(principal, params, this.passthroughUsage(params, stream), options)
    }
    if (params.stream_options?.include_usage) {
      yield new ChatChunkMapper({ id, created, model: params.model }, true).chunk([], toWireUsage(this.passthroughUsage(params, stream)))
    }
  }

  private async *chunksOf(principal: ProjectPrincipal, params: ChatCompletionCreateParams, prepared: Prepared, options: ChatOptions) {
    const promptTokens = await this.admit(params, prepared)
    const parts = prepared.provider.stream(prepared.call)
    const id = completionId('chatcmpl-')
    const created = nowSeconds()
    const includeUsage = Boolean(params.stream_options?.include_usage)
    const mapper = new ChatChunkMapper({ id, created, model: params.model }, includeUsage, principal.request)
    // a stream's log probabilities went out with its chunks: only a stored answer keeps them
    const accumulator = new ChoiceAccumulator({ logprobs: Boolean(params.store) })
    for await (const part of this.withUsage(principal, params, parts, options, accumulator, promptTokens)) {
      for (const chunk of mapper.map(part)) yield chunk
    }
    if (includeUsage) yield mapper.chunk([], toWireUsage(accumulator.usage!))
    if (params.store) {
      await this.store.save(principal, params, toChatCompletion(id, created, params, accumulator), options.requestId)
    }
  }

  /**
   * Passes the provider's parts through, filling the accumulator, and records usage once the
   * stream ends, however it ends (done, failed or client gone): a streamed answer is never
   * recorded as zero tokens.
   */
  private async *withUsage(
    principal: ProjectPrincipal,
    params: ChatCompletionCreateParams,
    parts: AsyncIterable<StreamPart>,
    options: ChatOptions,
    accumulator: ChoiceAccumulator,
    promptTokens?: number,
  ): AsyncGenerator<StreamPart> {
    let started = false
    try {
      for await (const part of parts) {
        started = true
        accumulator.add(part)
        if (part.type !== 'usage') yield part
      }
      accumulator.usage ??= await this.countUsageAsync(params, accumulator, promptTokens)
    } finally {
      if (started) {
        // a cut-short stream is counted without pauses: its client is gone, its answer is short
        const usage: Usage = accumulator.usage ?? this.countUsage(params, accumulator, promptTokens)
        accumulator.usage = usage
        this.recordUsage(principal, params, usage, options)
      }
    }
  }

  private passthroughUsage(params: ChatCompletionCreateParams, stream: PassthroughStream): Usage {
    return stream.usage((parts) => this.countUsage(params, accumulate(parts)))
  }

  /** Settles the rate-limit hold and records usage; the answer does not wait for the row. */
  private recordUsage(principal: ProjectPrincipal, params: ChatCompletionCreateParams, usage: Usage, options: ChatOptions): void {
    options.limit?.settle(usage.inputTokens + usage.outputTokens)
    void this.usage.record(principal, {
      operation: 'completions',
      model: params.model,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cachedTokens: usage.cachedTokens,
      batch: options.batch,
    }, options.usageSink)
  }

  private countUsage(params: ChatCompletionCreateParams, accumulator: ChoiceAccumulator, promptTokens?: number): Usage {
    return {
      inputTokens: promptTokens ?? countChatPromptTokens(params.messages, params.tools),
      outputTokens: accumulator.choices.reduce((sum, c) => sum + (c ? countCompletionTokens(c) : 0), 0),
    }
  }

  /** countUsage in slices: n choices of 16k tokens are encoded without holding the event loop. */
  private async countUsageAsync(params: ChatCompletionCreateParams, accumulator: ChoiceAccumulator, promptTokens?: number): Promise<Usage> {
    return {
      inputTokens: promptTokens ?? (await countChatPromptTokensAsync(params.messages, params.tools)),
      outputTokens: await countCompletionTokensAsync(accumulator.choices),
    }
  }
}

function accumulate(parts: StreamPart[]): ChoiceAccumulator {
  const accumulator = new ChoiceAccumulator()
  for (const part of parts) accumulator.add(part)
  return accumulator
}

async function* fromPromise(parts: Promise<StreamPart[]>): AsyncGenerator<StreamPart> {
  yield* await parts
}

export type ChatCompletion = ReturnType<typeof toChatCompletion>

export function toChatCompletion(id: string, created: number, params: ChatCompletionCreateParams, accumulator: ChoiceAccumulator) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model: params.model,
    choices: accumulator.list(params.n ?? 1).map((choice, index) => ({
      index,
      message: chatMessage(choice),
      logprobs: choice.logprobs ? { content: choice.logprobs, refusal: null } : null,
      finish_reason: choice.finishReason ?? 'stop',
    })),
    usage: toWireUsage(accumulator.usage!),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  }
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false
}

function checkSupported(card: ModelCard, params: ChatCompletionCreateParams) {
  const unsupported = card.unsupportedParameters ?? []
  for (const name of CHECKED_PARAMETERS) {
    if (unsupported.includes(name) && isSet(params[name])) {
      // a plain text response_format or tool_choice 'auto'/'none' asks nothing of the model
      if (name === 'response_format' && params.response_format?.type === 'text') continue
      // `modalities: ["text"]` asks for the text every model gives: only audio output is declined
      if (name === 'modalities' && !params.modalities?.includes('audio')) continue
      if (name === 'tool_choice' && (params.tool_choice === 'auto' || params.tool_choice === 'none')) continue
      if (name === 'function_call' && (params.function_call === 'auto' || params.function_call === 'none')) continue
      throw unsupportedParameter(name)
    }
  }
}

/** Request rules OpenAI enforces beyond the schema (errors.md C18, C19 and friends). */
function checkConversation(params: ChatCompletionCreateParams) {
  if (isSet(params.max_tokens) && isSet(params.max_completion_tokens)) {
    throw invalidRequest(
      "Invalid request: 'max_tokens' and 'max_completion_tokens' cannot both be set. Use 'max_completion_tokens'.",
      'max_tokens',
      'invalid_value',
    )
  }
  if (isSet(params.top_logprobs) && !params.logprobs) {
    throw invalidRequest("Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", 'top_logprobs', 'invalid_value')
  }
  if (params.stream_options && !params.stream) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value')
  }
  if (params.tool_choice !== undefined && !params.tools?.length) {
    throw invalidRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice')
  }
  if (params.parallel_tool_calls !== undefined && !params.tools?.length) {
    throw invalidRequest("Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.", 'parallel_tool_calls')
  }
  const choice = params.tool_choice
  if (choice && typeof choice === 'object' && !params.tools?.some((t) => t.function.name === choice.function.name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': function '${choice.function.name}' is not among the provided 'tools'.`, 'tool_choice', 'invalid_value')
  }
  if (params.response_format?.type === 'json_object' && !mentionsJson(params.messages)) {
    throw invalidRequest("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages')
  }
  checkToolMessages(params.messages)
}

function mentionsJson(messages: ChatMessageParam[]): boolean {
  return messages.some((m) => JSON.stringify((m as { content?: unknown }).content ?? '').toLowerCase().includes('json'))
}

function checkToolMessages(messages: ChatMessageParam[]) {
  let pending: string[] = []
  messages.forEach((message, i) => {
    if (message.role === 'tool') {
      if (!pending.includes(message.tool_call_id)) {
        throw invalidRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
        )
      }
      pending = pending.filter((id) => id !== message.tool_call_id)
      return
    }
    if (pending.length) {
      throw invalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(', ')}`,
        'messages',
      )
    }
    if (message.role === 'assistant') pending = (message.tool_calls ?? []).map((c) => c.id)
  })
}

export function toGenerateCall(params: ChatCompletionCreateParams, upstreamModel: string, signal: AbortSignal): GenerateCall {
  const stop = params.stop == null ? undefined : Array.isArray(params.stop) ? params.stop : [params.stop]
  return {
    model: upstreamModel,
    messages: params.messages,
    sampling: {
      temperature: params.temperature ?? undefined,
      topP: params.top_p ?? undefined,
      maxTokens: params.max_completion_tokens ?? params.max_tokens ?? undefined,
      stop,
      seed: params.seed ?? undefined,
      n: params.n ?? 1,
      presencePenalty: params.presence_penalty ?? undefined,
      frequencyPenalty: params.frequency_penalty ?? undefined,
      logitBias: params.logit_bias ?? undefined,
      logprobs: params.logprobs ?? undefined,
      topLogprobs: params.top_logprobs ?? undefined,
    },
    tools: params.tools,
    toolChoice: params.tool_choice,
    parallelToolCalls: params.parallel_tool_calls,
    responseFormat: params.response_format,
    raw: params,
    signal,
  }
}
