import type { ResponseCreateParams } from '../../schemas/responses.js'
import type { StoredItem } from './items.js'
import { conversationField, type ResponseObject } from './objects.js'

/** What Plinth keeps itself and never sends to an upstream's /responses. */
const HANDLED_HERE = new Set(['model', 'input', 'store', 'previous_response_id', 'conversation', 'background', 'stream', 'stream_options'])

/**
 * The request as an upstream that serves the Responses API takes it: the whole conversation as
 * input items (the state is Plinth's: the upstream stores nothing and knows no Plinth id), the
 * backend's model id, every other parameter as the client sent it (built-in tools included,
 * which the upstream runs itself).
 */
export function upstreamBody(params: ResponseCreateParams, upstreamModel: string, conversation: StoredItem[]): Record<string, unknown> {
  const body: Record<string, unknown> = { model: upstreamModel, input: conversation.flatMap(upstreamItem), store: false }
  for (const [key, value] of Object.entries(params)) if (!HANDLED_HERE.has(key) && value !== undefined) body[key] = value
  return body
}

/** A stored item as input the upstream accepts: without Plinth's ids, which it never issued. */
function upstreamItem(item: StoredItem): Record<string, unknown>[] {
  switch (item.type) {
    case 'message':
      return [{ type: 'message', role: item.role, content: item.content }]
    case 'function_call':
      return [{ type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments }]
    case 'function_call_output':
      return [{ type: 'function_call_output', call_id: item.call_id, output: item.output }]
    default:
      // a built-in tool's call (file_search_call...) was Plinth's own: its result is in the answer
      return []
  }
}

/** The upstream's Response as Plinth's: Plinth's id, the public model, the request's own state. */
export function asPlinthResponse(answer: Record<string, unknown>, id: string, createdAt: number, params: ResponseCreateParams): ResponseObject {
  return {
    ...(answer as unknown as ResponseObject),
    id,
    object: 'response',
    created_at: createdAt,
    model: params.model,
    previous_response_id: params.previous_response_id ?? null,
    store: params.store ?? true,
    background: false,
    metadata: params.metadata ?? {},
    ...conversationField(params),
  }
}
