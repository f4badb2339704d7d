import { Pacer } from '../../pacing.js'
import { countTokens } from '../../providers/tokenizer.js'
import type { TrainingExample } from '../../providers/training-backend.js'
import { ChatMessageParam, Tool } from '../../schemas/chat.js'
import { parseJsonText } from '../../schemas/json-text.js'

/** OpenAI's least number of examples in a training file. */
export const MIN_EXAMPLES = 10

export type FileKind = 'training_file' | 'validation_file'

/** A bad training or validation file: the job's `error` object. */
export class TrainingFileError extends Error {
  override name = 'TrainingFileError'
  constructor(
    readonly code: string,
    message: string,
    readonly param: FileKind,
  ) {
    super(message)
  }
}

const TOP_KEYS = new Set(['messages', 'tools', 'parallel_tool_calls', 'functions'])
const MESSAGE_KEYS = new Set(['role', 'content', 'name', 'weight', 'tool_calls', 'tool_call_id', 'function_call', 'refusal'])
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool'])

export type CheckedFile = { examples: TrainingExample[]; tokens: number; lines: number }

/**
 * Reads a chat fine-tuning file (JSONL, one `{"messages": [...]}` example a line) and checks each
 * line as OpenAI's validator does: JSON, known keys, roles, content, at least one assistant
 * message, `weight` 0 or 1 on assistant messages only, well-formed tool calls, and each example's
 * tokens within the model's context. The first bad line fails the job, naming the example by its
 * line number (as OpenAI's "Example N" messages do).
 */
export async function checkTrainingFile(
  text: string,
  kind: FileKind,
  options: { contextLength?: number; minExamples?: number; signal?: AbortSignal },
): Promise<CheckedFile> {
  const fail = (detail: string, code = kind === 'training_file' ? 'invalid_training_file' : 'invalid_validation_file') =>
    new TrainingFileError(code, `${prefix(kind)} Invalid file format. ${detail}`, kind)
  const pacer = new Pacer()
  const examples: TrainingExample[] = []
  let tokens = 0
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '')
    if (line.trim() === '') continue
    const n = i + 1
    const parsed = parseJsonText(line)
    if (!parsed) throw fail(`Example ${n} is not valid JSON.`)
    const example = checkExample(parsed.value, n, fail)
    const count = exampleTokens(example)
    if (options.contextLength !== undefined && count > options.contextLength) {
      throw fail(
        `Example ${n} has ${count} tokens, more than the ${options.contextLength} tokens the model's context holds.`,
      )
    }
    tokens += count
    examples.push(example)
    await pacer.pace(options.signal)
  }
  const min = options.minExamples ?? (kind === 'training_file' ? MIN_EXAMPLES : 1)
  if (examples.length < min) {
    const file = kind === 'training_file' ? 'Training' : 'Validation'
    throw new TrainingFileError(
      'invalid_n_examples',
      `${file} file has ${examples.length} example(s), but must have at least ${min} examples`,
      kind,
    )
  }
  return { examples, tokens, lines: lines.length }
}

function prefix(kind: FileKind) {
  return `The job failed due to a file format error in the ${kind === 'training_file' ? 'training' : 'validation'} file.`
}

function checkExample(value: unknown, n: number, fail: (detail: string) => Error): TrainingExample {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail(`Example ${n} is not a JSON object.`)
  const record = value as Record<string, unknown>
  if (!('messages' in record)) {
    if ('prompt' in record || 'completion' in record)
      throw fail(
        `Example ${n} uses the prompt/completion format, which is for babbage-002 and davinci-002 only; this model takes the chat format ({"messages": [...]}).`,
      )
    throw fail(`Example ${n} is missing the 'messages' key.`)
  }
  for (const key of Object.keys(record))
    if (!TOP_KEYS.has(key)) throw fail(`Example ${n} has an unrecognized key '${key}'.`)
  const messages = record.messages
  if (!Array.isArray(messages) || messages.length === 0)
    throw fail(`Example ${n}: 'messages' must be a non-empty list.`)
  const toolIds = new Set<string>()
  let assistants = 0
  const out: TrainingExample['messages'] = []
  for (let m = 0; m < messages.length; m++) {
    const at = `Example ${n}, message ${m + 1}`
    const message = messages[m] as Record<string, unknown>
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      throw fail(`${at} is not a JSON object.`)
    for (const key of Object.keys(message))
      if (!MESSAGE_KEYS.has(key)) throw fail(`${at} has an unrecognized key '${key}'.`)
    if (!('role' in message)) throw fail(`${at} is missing the 'role' key.`)
    if (typeof message.role !== 'string' || !ROLES.has(message.role))
      throw fail(`${at} has an unrecognized role '${String(message.role)}'.`)
    const role = message.role
    if ('weight' in message) {
      if (role !== 'assistant') throw fail(`${at}: 'weight' is only allowed on assistant messages.`)
      if (message.weight !== 0 && message.weight !== 1) throw fail(`${at}: 'weight' must be 0 or 1.`)
    }
    if ((message.tool_calls !== undefined || message.function_call !== undefined) && role !== 'assistant')
      throw fail(`${at}: only assistant messages may have 'tool_calls'.`)
    const hasCalls = Array.isArray(message.tool_calls) && message.tool_calls.length > 0
    if (role === 'assistant') {
      assistants++
      if (message.tool_calls !== undefined) {
        if (!Array.isArray(message.tool_calls)) throw fail(`${at}: 'tool_calls' must be a list.`)
        message.tool_calls.forEach((call: unknown, c: number) => {
          const detail = toolCallProblem(call)
          if (detail) throw fail(`${at}, tool call ${c + 1}: ${detail}`)
          toolIds.add((call as { id: string }).id)
        })
      }
    }
    if (role === 'tool') {
      if (typeof message.tool_call_id !== 'string' || !toolIds.has(message.tool_call_id))
        throw fail(`${at}: a tool message must answer a tool call of an earlier assistant message ('tool_call_id').`)
    }
    const content = message.content
    const emptyOk = role === 'assistant' && (hasCalls || message.function_call !== undefined)
    if (content === undefined || content === null) {
      if (!emptyOk) throw fail(`${at} is missing the 'content' key.`)
    } else if (typeof content === 'string') {
      if (content === '' && !emptyOk) throw fail(`${at} has empty content.`)
    } else if (!Array.isArray(content)) {
      throw fail(`${at}: 'content' must be a string or a list of content parts.`)
    }
    const { weight, ...rest } = message
    const parsed = ChatMessageParam.safeParse(rest)
    if (!parsed.success) throw fail(`${at} is not a valid ${role} message: ${parsed.error.issues[0]?.message ?? 'invalid'}.`)
    out.push(weight === undefined ? parsed.data : { ...parsed.data, weight: weight as 0 | 1 })
  }
  if (assistants === 0) throw fail(`Example ${n} has no assistant message: at least one message must be from the assistant.`)
  const example: TrainingExample = { messages: out }
  if (record.tools !== undefined) {
    if (!Array.isArray(record.tools)) throw fail(`Example ${n}: 'tools' must be a list.`)
    const tools: Tool[] = []
    record.tools.forEach((tool: unknown, t: number) => {
      const parsed = Tool.safeParse(tool)
      if (!parsed.success) throw fail(`Example ${n}, tool ${t + 1} is not a valid function tool.`)
      tools.push(parsed.data)
    })
    example.tools = tools
  }
  if (record.parallel_tool_calls !== undefined) {
    if (typeof record.parallel_tool_calls !== 'boolean')
      throw fail(`Example ${n}: 'parallel_tool_calls' must be a boolean.`)
    example.parallel_tool_calls = record.parallel_tool_calls
  }
  return example
}

function toolCallProblem(call: unknown): string | undefined {
  if (typeof call !== 'object' || call === null) return 'not a JSON object.'
  const c = call as Record<string, unknown>
  if (typeof c.id !== 'string' || c.id === '') return "missing its 'id'."
  if (c.type !== 'function') return "'type' must be 'function'."
  const fn = c.function as Record<string, unknown> | undefined
  if (typeof fn !== 'object' || fn === null) return "missing its 'function'."
  if (typeof fn.name !== 'string' || fn.name === '') return "missing the function's 'name'."
  if (typeof fn.arguments !== 'string') return "the function's 'arguments' must be a string of JSON."
  if (!parseJsonText(fn.arguments)) return "the function's 'arguments' are not valid JSON."
  return undefined
}

/** An example's tokens (o200k, as model contexts are counted here): its messages and tools. */
export function exampleTokens(example: TrainingExample): number {
  let count = 0
  for (const message of example.messages) {
    // OpenAI's per-message overhead in chat formats
    count += 4
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') count += countTokens(content)
    else if (Array.isArray(content)) {
      for (const part of content) if (part && typeof part.text === 'string') count += countTokens(part.text)
    }
    const calls = (message as { tool_calls?: { function: { name: string; arguments: string } }[] }).tool_calls
    for (const call of calls ?? []) count += countTokens(call.function.name) + countTokens(call.function.arguments)
  }
  if (example.tools) count += countTokens(JSON.stringify(example.tools))
  return count + 2
}
