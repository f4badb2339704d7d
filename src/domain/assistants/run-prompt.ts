import type { ChatMessageParam } from '../../schemas/chat.js'
import type { MessageContent } from '../../schemas/messages.js'
import type { FunctionToolCall, StepDetails, TruncationStrategy } from '../../schemas/runs.js'
import type { RunStepRow } from '../../storage/repositories/runs.js'
import { countChatPromptTokens } from '../inference/tokens.js'
import type { MessageRecord } from './records.js'
import { stepToolData } from './run-answer.js'

/**
 * The chat conversation of one model turn of a run: the instructions, the thread (truncated per
 * the run's truncation_strategy and max_prompt_tokens), then what the run itself did so far
 * (tool calls with their outputs), so a resumed run asks the model the same question again.
 */
export function buildPrompt(input: {
  instructions: string
  thread: MessageRecord[]
  steps: RunStepRow[]
  ownMessages: Map<string, MessageRecord>
  truncation: TruncationStrategy
  maxPromptTokens: number | null
  tools: unknown[]
}): { messages: ChatMessageParam[]; tokens: number; fits: boolean } {
  let thread = input.thread.map(chatMessage)
  if (input.truncation.type === 'last_messages' && input.truncation.last_messages) {
    thread = thread.slice(-input.truncation.last_messages)
  }
  // an empty thread and no instructions still make a run, as at OpenAI: the model gets an empty
  // system message (a chat request needs one message at least; without it the run failed)
  const head: ChatMessageParam[] =
    input.instructions || (!thread.length && !input.steps.length)
      ? [{ role: 'system', content: input.instructions }]
      : []
  const tail = input.steps.flatMap((step) => stepMessages(step, input.ownMessages))
  const build = () => [...head, ...thread, ...tail]
  const count = () => countChatPromptTokens(build(), input.tools as never)
  let tokens = count()
  // auto: the oldest messages go first, until the prompt fits; the newest always stays
  if (input.maxPromptTokens !== null && input.truncation.type === 'auto') {
    while (tokens > input.maxPromptTokens && thread.length > 1) {
      thread = thread.slice(1)
      tokens = count()
    }
  }
  return {
    messages: build(),
    tokens,
    fits: input.maxPromptTokens === null || tokens <= input.maxPromptTokens,
  }
}

function chatMessage(m: MessageRecord): ChatMessageParam {
  const text = textOf(m.content)
  if (m.role === 'assistant') return { role: 'assistant', content: text }
  const images = m.content.filter((p) => p.type === 'image_url')
  if (!images.length) return { role: 'user', content: text }
  return {
    role: 'user',
    content: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      ...images.map((p) => ({ type: 'image_url' as const, image_url: p.image_url })),
    ],
  } as ChatMessageParam
}

export function textOf(content: MessageContent[]): string {
  return content
    .map((p) =>
      p.type === 'text'
        ? p.text.value
        : p.type === 'refusal'
          ? p.refusal
          : p.type === 'image_file'
            ? `[image file ${p.image_file.file_id}]`
            : '',
    )
    .filter(Boolean)
    .join('\n')
}

function stepMessages(step: RunStepRow, own: Map<string, MessageRecord>): ChatMessageParam[] {
  const details = JSON.parse(step.step_details) as StepDetails
  if (details.type === 'message_creation') {
    const message = own.get(details.message_creation.message_id)
    return message && step.status === 'completed'
      ? [{ role: 'assistant', content: textOf(message.content) }]
      : []
  }
  if (step.status !== 'completed') return []
  // a built-in call is shown to the model as the function it called, with the result it read
  const data = stepToolData(step)
  const calls = details.tool_calls.flatMap((c) => {
    if (c.type === 'function') {
      const { name, arguments: args, output } = (c as FunctionToolCall).function
      return [{ id: c.id, name, arguments: args, output: output ?? '' }]
    }
    const call = data?.calls[c.id]
    return call ? [{ id: c.id, ...call }] : []
  })
  if (!calls.length) return []
  return [
    {
      role: 'assistant',
      content: null,
      tool_calls: calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      })),
    } as ChatMessageParam,
    ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: c.output }) as ChatMessageParam),
  ]
}
