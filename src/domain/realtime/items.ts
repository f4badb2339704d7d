import { z } from 'zod'
import { invalidRequest } from '../../errors.js'
import type { ChatMessageParam } from '../../schemas/chat.js'

/** A conversation item as the client sends it (RealtimeConversationItem). */
export const ClientItem = z.strictObject({
  id: z.string().max(32).optional(),
  object: z.literal('realtime.item').optional(),
  type: z.enum(['message', 'function_call', 'function_call_output']),
  status: z.enum(['completed', 'incomplete', 'in_progress']).optional(),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  content: z
    .array(
      z.strictObject({
        type: z.enum(['input_text', 'input_audio', 'item_reference', 'text', 'audio']),
        text: z.string().optional(),
        id: z.string().optional(),
        audio: z.string().optional(),
        transcript: z.string().optional(),
      }),
    )
    .optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.string().optional(),
})
export type ClientItem = z.output<typeof ClientItem>

/** Text parts carry `text`; audio parts (a committed input buffer, spoken output) a `transcript`. */
export type ContentPart = { type: 'input_text' | 'text'; text: string } | { type: 'input_audio' | 'audio'; transcript: string | null }
/** A conversation item as the server shows it. */
export type RealtimeItem = {
  id: string
  object: 'realtime.item'
  type: 'message' | 'function_call' | 'function_call_output'
  status: 'completed' | 'incomplete' | 'in_progress'
  role?: 'user' | 'assistant' | 'system'
  content?: ContentPart[]
  call_id?: string
  name?: string
  arguments?: string
  output?: string
}

/** Which content a role may carry: user and system text in, the assistant's text out. */
const ALLOWED: Record<string, string> = { user: 'input_text', system: 'input_text', assistant: 'text' }

/** The client's item, checked, with its id; audio content is refused (Plinth serves text). */
export function toItem(item: ClientItem, id: string): RealtimeItem {
  if (item.type === 'message') {
    if (!item.role) throw invalidRequest("Missing required parameter: 'item.role'.", 'item.role', 'missing_required_parameter')
    const content = item.content ?? []
    const parts = content.map((part, index): ContentPart => {
      if (part.type === 'input_audio' || part.type === 'audio')
        throw invalidRequest(`Audio content parts are not supported by Plinth's Realtime API: send audio through input_audio_buffer.append and commit, or '${ALLOWED[item.role!]}' parts.`, `item.content[${index}].type`, 'audio_not_supported')
      if (part.type !== ALLOWED[item.role!])
        throw invalidRequest(`Invalid value: '${part.type}'. A ${item.role} message's content must be of type '${ALLOWED[item.role!]}'.`, `item.content[${index}].type`, 'invalid_value')
      return { type: ALLOWED[item.role!] as 'input_text' | 'text', text: part.text ?? '' }
    })
    return { id, object: 'realtime.item', type: 'message', status: 'completed', role: item.role, content: parts }
  }
  if (item.type === 'function_call') {
    if (!item.call_id) throw invalidRequest("Missing required parameter: 'item.call_id'.", 'item.call_id', 'missing_required_parameter')
    if (!item.name) throw invalidRequest("Missing required parameter: 'item.name'.", 'item.name', 'missing_required_parameter')
    return { id, object: 'realtime.item', type: 'function_call', status: 'completed', call_id: item.call_id, name: item.name, arguments: item.arguments ?? '' }
  }
  if (!item.call_id) throw invalidRequest("Missing required parameter: 'item.call_id'.", 'item.call_id', 'missing_required_parameter')
  if (item.output === undefined) throw invalidRequest("Missing required parameter: 'item.output'.", 'item.output', 'missing_required_parameter')
  return { id, object: 'realtime.item', type: 'function_call_output', status: 'completed', call_id: item.call_id, output: item.output }
}

/**
 * The conversation as chat messages: the session's instructions first, a run of function calls
 * as one assistant message's tool_calls, each output as a tool message. An output whose call is
 * not in the conversation becomes a user message saying so: chat refuses orphan tool messages.
 * `heard` gives a truncated spoken item's text (truncate.ts).
 */
export function toChatMessages(instructions: string | undefined, items: readonly RealtimeItem[], heard?: (item: RealtimeItem) => string | undefined): ChatMessageParam[] {
  const messages: ChatMessageParam[] = []
  if (instructions) messages.push({ role: 'system', content: instructions })
  const calls = new Set(items.filter((item) => item.type === 'function_call').map((item) => item.call_id))
  let pending: { id: string; type: 'function'; function: { name: string; arguments: string } }[] | undefined
  for (const item of items) {
    if (item.type === 'function_call') {
      if (!pending) {
        pending = []
        messages.push({ role: 'assistant', content: null, tool_calls: pending } as ChatMessageParam)
      }
      pending.push({ id: item.call_id!, type: 'function', function: { name: item.name!, arguments: item.arguments ?? '' } })
      continue
    }
    pending = undefined
    if (item.type === 'function_call_output') {
      if (calls.has(item.call_id)) messages.push({ role: 'tool', tool_call_id: item.call_id!, content: item.output ?? '' } as ChatMessageParam)
      else messages.push({ role: 'user', content: `Output of call ${item.call_id}: ${item.output ?? ''}` })
      continue
    }
    // a truncated spoken item: the words heard before the cut (its transcript is removed, as OpenAI does)
    const cut = heard?.(item)
    const text = cut ?? (item.content ?? []).map((part) => ('text' in part ? part.text : (part.transcript ?? ''))).join('')
    messages.push({ role: item.role!, content: text } as ChatMessageParam)
  }
  return messages
}
