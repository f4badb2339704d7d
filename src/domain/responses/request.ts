import { ApiError, inputContextExceeded, responseLogprobsTooLarge, responsesJsonWordMissing, responsesToolNotServed, unsupportedParameter } from '../../errors.js'
import { MAX_ANSWER_LOGPROBS } from '../inference/chunks.js'
import type { ModelCard } from '../../providers/provider.js'
import type { ChatCompletionCreateParams, ChatMessageParam, ResponseFormat, Tool, ToolChoice } from '../../schemas/chat.js'
import type { ResponseCreateParams, TextFormat } from '../../schemas/responses.js'
import type { Builtins } from './builtins.js'

/**
 * A Responses request as the chat call every provider serves: the conversation as messages,
 * function tools as chat tools, `text.format` as `response_format`, `max_output_tokens` as
 * `max_completion_tokens`. What chat cannot express (built-in tools) is refused here, named.
 */
export function chatRequest(
  card: ModelCard,
  params: ResponseCreateParams,
  messages: ChatMessageParam[],
  stream: boolean,
  builtins: Builtins | null = null,
): ChatCompletionCreateParams {
  checkReasoning(card, params)
  const tools = [...chatTools(params, builtins), ...(builtins?.functions ?? [])]
  const format = params.text?.format
  if (format?.type === 'json_object' && !messages.some((m) => JSON.stringify(m.content ?? '').toLowerCase().includes('json'))) {
    throw responsesJsonWordMissing()
  }
  const request: ChatCompletionCreateParams = { model: params.model, messages }
  if (tools.length) {
    request.tools = tools
    const choice = toolChoice(params, builtins)
    if (choice !== undefined) request.tool_choice = choice
    if (params.parallel_tool_calls != null) request.parallel_tool_calls = params.parallel_tool_calls
  } else if (params.tool_choice && typeof params.tool_choice === 'object') {
    // a named tool with no tools: chat's own check says it is not among them
    request.tool_choice = toolChoice(params)
  }
  if (format && format.type !== 'text') request.response_format = responseFormat(format)
  if (params.max_output_tokens != null) request.max_completion_tokens = params.max_output_tokens
  if (params.temperature != null) request.temperature = params.temperature
  if (params.top_p != null) request.top_p = params.top_p
  // the text's log probabilities when `include` asks for them; `top_logprobs` alone asks nothing
  if (params.include?.includes('message.output_text.logprobs')) {
    request.logprobs = true
    if (params.top_logprobs != null) request.top_logprobs = params.top_logprobs
  }
  if (params.user !== undefined) request.user = params.user
  const effort = params.reasoning?.effort
  if (effort) request.reasoning_effort = effort === 'minimal' ? 'low' : effort
  if (stream) {
    request.stream = true
    request.stream_options = { include_usage: true }
  }
  return request
}

/** Models that cannot reason say so (a card's `reasoning`); others get the effort as chat's. */
function checkReasoning(card: ModelCard, params: ResponseCreateParams) {
  const reasoning = params.reasoning
  if (!reasoning || !(card.unsupportedParameters ?? []).includes('reasoning')) return
  if (reasoning.effort != null) throw unsupportedParameter('reasoning.effort')
  if (reasoning.summary != null) throw unsupportedParameter('reasoning.summary')
  if (reasoning.generate_summary != null) throw unsupportedParameter('reasoning.generate_summary')
}

function chatTools(params: ResponseCreateParams, builtins: Builtins | null): Tool[] {
  return (params.tools ?? []).flatMap((tool, i) => {
    if (builtins?.tools.some((b) => b.type === tool.type)) return []
    if (tool.type !== 'function') throw responsesToolNotServed(tool.type, `tools[${i}].type`)
    const fn = tool as Extract<typeof tool, { type: 'function' }>
    const definition: Tool['function'] = { name: fn.name }
    if (fn.description != null) definition.description = fn.description
    if (fn.parameters != null) definition.parameters = fn.parameters
    if (fn.strict != null) definition.strict = fn.strict
    return [{ type: 'function' as const, function: definition }]
  })
}

function toolChoice(params: ResponseCreateParams, builtins: Builtins | null = null): ToolChoice | undefined {
  const choice = params.tool_choice
  if (choice === undefined || typeof choice === 'string') return choice
  if (choice.type === 'function') return { type: 'function', function: { name: (choice as { name: string }).name } }
  // a built-in tool named: the function the model calls it as
  const builtin = builtins?.tools.find((tool) => tool.type === choice.type)
  if (builtin) return { type: 'function', function: { name: builtin.functionName } }
  throw responsesToolNotServed(choice.type, 'tool_choice.type')
}

function responseFormat(format: Exclude<TextFormat, { type: 'text' }>): ResponseFormat {
  if (format.type === 'json_object') return { type: 'json_object' }
  const json_schema: Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] = { name: format.name, schema: format.schema }
  if (format.description !== undefined) json_schema.description = format.description
  if (format.strict != null) json_schema.strict = format.strict
  return { type: 'json_schema', json_schema }
}

/** Chat's parameter names in its errors, as the Responses request names them. */
const RENAMED: Record<string, string> = {
  messages: 'input',
  max_completion_tokens: 'max_output_tokens',
  max_tokens: 'max_output_tokens',
  response_format: 'text.format',
  reasoning_effort: 'reasoning.effort',
}

/**
 * An error of the chat call beneath, in the Responses request's words: the parameter it names,
 * and a prompt over the context in OpenAI's Responses wording. Others pass unchanged.
 */
export function asResponsesError(error: unknown): unknown {
  if (!(error instanceof ApiError) || error.param === null) return error
  if (error.code === 'context_length_exceeded') {
    return inputContextExceeded()
  }
  if (error.param === 'logprobs') {
    // chat's bound on an answer's log probabilities, or a model that has none: the request
    // asked for them with its `include` value
    if (error.code === 'unsupported_parameter') return unsupportedParameter('include', "This model has no log probabilities: remove 'message.output_text.logprobs'.")
    if (error.code === 'invalid_value') return responseLogprobsTooLarge(MAX_ANSWER_LOGPROBS)
  }
  const [head, ...rest] = error.param.split('.')
  const renamed = RENAMED[error.param] ?? (head.startsWith('messages') ? null : undefined)
  if (renamed === undefined) return error
  const param = renamed ?? ['input', ...rest].join('.')
  const message = error.message.split(error.param).join(param)
  return new ApiError(error.status, message, error.type, param, error.code, error.headers)
}
