import type { ModelCard } from '../../providers/provider.js'
import type { ChatMessageParam } from '../../schemas/chat.js'
import { countChatPromptTokensAsync } from '../inference/tokens.js'

/**
 * `truncation: auto`: the oldest turns are dropped until the conversation fits the model's
 * context with room for `max_output_tokens`. Instructions (the leading system messages) and the
 * last item stay; tool results are never kept without the call they answer. Each message is
 * counted once (in slices), and dropping subtracts. A model without a declared context is left to
 * its backend.
 */
export async function truncateToContext(card: ModelCard, messages: ChatMessageParam[], reserve: number, signal: AbortSignal): Promise<ChatMessageParam[]> {
  const context = card.contextLength
  if (context === undefined) return messages
  let head = 0
  while (head < messages.length && (messages[head].role === 'system' || messages[head].role === 'developer')) head++
  const counts: number[] = []
  // countChatPromptTokens is 3 for the reply's priming plus each message's own count
  for (const message of messages) counts.push((await countChatPromptTokensAsync([message], undefined, { signal })) - 3)
  let total = 3 + counts.reduce((a, b) => a + b, 0)
  let start = head
  const drop = () => {
    total -= counts[start]
    start++
  }
  while (start < messages.length - 1 && total + reserve >= context) {
    drop()
    while (start < messages.length - 1 && messages[start].role === 'tool') drop()
  }
  return start === head ? messages : [...messages.slice(0, head), ...messages.slice(start)]
}
