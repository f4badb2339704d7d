import { invalidRequest } from '../../errors.js'
import { countTokens, decodeTokens } from '../../providers/tokenizer.js'
import type { ChatMessageParam, Tool } from '../../schemas/chat.js'
import type { ChoiceState } from './chunks.js'

/**
 * Prompt tokens the way OpenAI counts chat input for its models: 3 tokens of framing per
 * message, 1 more for a name, 3 to prime the reply; tool definitions count as their JSON text.
 * Used when a backend reports no usage of its own.
 */
export function countChatPromptTokens(messages: ChatMessageParam[], tools?: Tool[]): number {
  let total = 3
  for (const message of messages) {
    total += 3
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') total += countTokens(content)
    else if (Array.isArray(content)) {
      for (const part of content as { type: string; text?: string; refusal?: string }[]) {
        if (part.type === 'text') total += countTokens(part.text ?? '')
        else if (part.type === 'refusal') total += countTokens(part.refusal ?? '')
        else total += 85 // an image or file part at low detail, OpenAI's base cost
      }
    }
    if ('name' in message && message.name) total += 1 + countTokens(message.name)
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) total += countTokens(call.function.name) + countTokens(call.function.arguments)
    }
  }
  if (tools?.length) total += countTokens(JSON.stringify(tools))
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
