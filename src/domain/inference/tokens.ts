import { invalidRequest } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import { countTokens, countTokensAsync, decodeTokens, minTokens } from '../../providers/tokenizer.js'
import type { ChatMessageParam, Tool } from '../../schemas/chat.js'
import type { ChoiceState } from './chunks.js'

/**
 * Prompt tokens the way OpenAI counts chat input for its models: 3 tokens of framing per
 * message, 1 more for a name, 3 to prime the reply; tool definitions count as their JSON text.
 * Used when a backend reports no usage of its own.
 */
export function countChatPromptTokens(messages: ChatMessageParam[], tools?: Tool[]): number {
  const { texts, fixed } = promptTexts(messages, tools)
  return texts.reduce((sum, text) => sum + countTokens(text), fixed)
}

/** The texts countChatPromptTokens encodes, and the tokens it adds without encoding. */
function promptTexts(messages: ChatMessageParam[], tools?: Tool[]): { texts: string[]; fixed: number } {
  const texts: string[] = []
  let fixed = 3
  for (const message of messages) {
    fixed += 3
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') texts.push(content)
    else if (Array.isArray(content)) {
      for (const part of content as { type: string; text?: string; refusal?: string }[]) {
        if (part.type === 'text') texts.push(part.text ?? '')
        else if (part.type === 'refusal') texts.push(part.refusal ?? '')
        else fixed += 85
      }
    }
    if ('name' in message && message.name) {
      fixed += 1
      texts.push(message.name)
    }
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) texts.push(call.function.name, call.function.arguments)
    }
  }
  if (tools?.length) texts.push(JSON.stringify(tools))
  return { texts, fixed }
}

/**
 * A lower bound of countChatPromptTokens without encoding anything (a token is at most
 * MAX_TOKEN_CHARS characters): a prompt it puts over the context is refused at once.
 */
export function chatPromptLowerBound(messages: ChatMessageParam[], tools?: Tool[]): number {
  const { texts, fixed } = promptTexts(messages, tools)
  let chars = 0
  for (const text of texts) chars += text.length
  return fixed + minTokens(chars)
}

/**
 * countChatPromptTokens in slices that let other requests run (countTokensAsync); with `atMost`,
 * it stops once the count passes it.
 */
export async function countChatPromptTokensAsync(
  messages: ChatMessageParam[],
  tools: Tool[] | undefined,
  options: { atMost?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const { texts, fixed } = promptTexts(messages, tools)
  let total = fixed
  const pacer = new Pacer()
  for (const text of texts) {
    const left = options.atMost === undefined ? undefined : options.atMost - total
    total += await countTokensAsync(text, { atMost: left, signal: options.signal })
    if (options.atMost !== undefined && total > options.atMost) return total
    await pacer.pace(options.signal)
  }
  return total
}

/** countCompletionTokens for choices of any length, in slices. */
export async function countCompletionTokensAsync(choices: (ChoiceState | undefined)[], signal?: AbortSignal): Promise<number> {
  let total = 0
  for (const choice of choices) {
    if (!choice) continue
    total += (await countTokensAsync(choice.text, { signal })) + countTokens(choice.refusal ?? '')
    for (const call of choice.toolCalls) total += countTokens(call.name) + (await countTokensAsync(call.arguments, { signal }))
  }
  return total
}

export function countCompletionTokens(choice: ChoiceState): number {
  let total = countTokens(choice.text) + countTokens(choice.refusal ?? '')
  for (const call of choice.toolCalls) total += countTokens(call.name) + countTokens(call.arguments)
  return total
}

/** Token ids sent as input → text; an id the tokenizer does not know is the client's error. */
export function decodeTokenInput(tokens: number[], param: string): string {
  try {
    return decodeTokens(tokens)
  } catch {
    const bad = tokens.find((token) => {
      try {
        decodeTokens([token])
        return false
      } catch {
        return true
      }
    })
    throw invalidRequest(`Invalid token in '${param}': ${bad ?? tokens.join(', ')} is not a token of this model's vocabulary.`, param, 'invalid_value')
  }
}
