import type { ResponseCreateParams } from '../../schemas/responses.js'
import { newId } from '../../storage/ids.js'
import type { TokenLogprob } from '../../providers/provider.js'
import type { ItemStatus, OutputPart } from './items.js'
import { textLogprobs } from './logprobs.js'

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'incomplete' | 'queued' | 'cancelled'

export type MessageOutput = { id: string; type: 'message'; status: ItemStatus; content: OutputPart[]; role: 'assistant' }
export type FunctionCallOutput = { id: string; type: 'function_call'; status: ItemStatus; arguments: string; call_id: string; name: string }
/** A built-in tool's call (`file_search_call`, `code_interpreter_call`): its tool shapes the rest. */
export type BuiltinCallOutput = Record<string, unknown> & { id: string; type: 'file_search_call' | 'code_interpreter_call'; status: string; code?: string }
export type OutputItem = MessageOutput | FunctionCallOutput | BuiltinCallOutput

export type ResponseUsage = {
  input_tokens: number
  input_tokens_details: { cached_tokens: number }
  output_tokens: number
  output_tokens_details: { reasoning_tokens: number }
  total_tokens: number
}

export type ResponseObject = ReturnType<typeof responseObject>

/** What a response's object says about itself besides its output. */
export type ResponseState = {
  status: ResponseStatus
  output: OutputItem[]
  usage: ResponseUsage | null
  error?: { code: string; message: string } | null
  incompleteReason?: 'max_output_tokens' | 'content_filter'
}

export function newMessage(status: ItemStatus = 'in_progress'): MessageOutput {
  return { id: newId('msg_'), type: 'message', status, content: [], role: 'assistant' }
}

export function newFunctionCall(callId: string, name: string, status: ItemStatus = 'in_progress'): FunctionCallOutput {
  return { id: newId('fc_'), type: 'function_call', status, arguments: '', call_id: callId, name }
}

/** The Response object (the spec's Response): the request's settings, echoed with their defaults. */
export function responseObject(id: string, createdAt: number, params: ResponseCreateParams, state: ResponseState) {
  return {
    id,
    object: 'response' as const,
    created_at: createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incompleteReason ? { reason: state.incompleteReason } : null,
    instructions: params.instructions ?? null,
    max_output_tokens: params.max_output_tokens ?? null,
    // @NOTE newer than the spec file (SDK 6 and OpenAI's objects have them): null and 0 unless set
    max_tool_calls: params.max_tool_calls ?? null,
    model: params.model,
    output: state.output,
    parallel_tool_calls: params.parallel_tool_calls ?? true,
    previous_response_id: params.previous_response_id ?? null,
    reasoning: { effort: params.reasoning?.effort ?? null, summary: params.reasoning?.summary ?? null },
    service_tier: 'default',
    store: params.store ?? true,
    temperature: params.temperature ?? 1,
    text: { format: params.text?.format ?? { type: 'text' } },
    tool_choice: params.tool_choice ?? 'auto',
    tools: (params.tools ?? []).map((tool) =>
      tool.type === 'function'
        ? { type: 'function', name: tool.name, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? null }
        : tool,
    ),
    top_logprobs: params.top_logprobs ?? 0,
    top_p: params.top_p ?? 1,
    truncation: params.truncation ?? 'disabled',
    // ResponseUsage is not nullable in the spec: a response still in progress has none yet
    ...(state.usage ? { usage: state.usage } : {}),
    // the spec's `user` is a string, not nullable: left out when the request had none
    ...(params.user !== undefined ? { user: params.user } : {}),
    metadata: params.metadata ?? {},
    // @NOTE newer than the spec file (SDK 6 types it): whether the response runs on the job runner
    background: params.background ?? false,
    // @NOTE newer than the spec file (SDK 6's Response.conversation): only when it was given one
    ...conversationField(params),
  }
}

/** The id of the request's `conversation` (SDK 6 sends `conv_...` or `{ id }`), or null. */
export function conversationIdOf(params: Pick<ResponseCreateParams, 'conversation'>): string | null {
  const conversation = params.conversation
  if (conversation == null) return null
  return typeof conversation === 'string' ? conversation : conversation.id
}

/** `conversation: { id }` on a response made with one; nothing on others. */
export function conversationField(params: Pick<ResponseCreateParams, 'conversation'>): { conversation?: { id: string } } {
  const id = conversationIdOf(params)
  return id === null ? {} : { conversation: { id } }
}

type ChatUsage = {
  prompt_tokens: number
  completion_tokens: number
  prompt_tokens_details?: { cached_tokens?: number } | null
  completion_tokens_details?: { reasoning_tokens?: number } | null
}

export function responseUsage(usage: ChatUsage | null | undefined): ResponseUsage | null {
  if (!usage) return null
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  }
}

/** A chat finish reason as the response's end: length is the output cap, content_filter its own. */
export function endOf(finishReason: string | null | undefined): Pick<ResponseState, 'status' | 'incompleteReason'> {
  if (finishReason === 'length') return { status: 'incomplete', incompleteReason: 'max_output_tokens' }
  if (finishReason === 'content_filter') return { status: 'incomplete', incompleteReason: 'content_filter' }
  return { status: 'completed' }
}

type ChatChoice = {
  message: ChatMessage
  /** only when the request asked for them (`include: ["message.output_text.logprobs"]`) */
  logprobs?: { content?: TokenLogprob[] | null } | null
}

type ChatMessage = {
  content?: string | null
  refusal?: string | null
  tool_calls?: { id: string; function: { name: string; arguments: string } }[] | null
}

/** A non-streamed chat answer's first choice as output items: its text (or refusal), then its calls. */
export function outputItems({ message, logprobs }: ChatChoice, itemStatus: ItemStatus): OutputItem[] {
  const items: OutputItem[] = []
  const calls = message.tool_calls ?? []
  if (message.refusal) {
    items.push({ ...newMessage(itemStatus), content: [{ type: 'refusal', refusal: message.refusal }] })
  } else if (message.content || !calls.length) {
    items.push({ ...newMessage(itemStatus), content: [{ type: 'output_text', text: message.content ?? '', annotations: [], logprobs: textLogprobs(logprobs?.content) }] })
  }
  for (const call of calls) {
    items.push({ ...newFunctionCall(call.id, call.function.name, 'completed'), arguments: call.function.arguments })
  }
  return items
}
