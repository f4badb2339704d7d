import type { ResponseEvent } from './events.js'
import { eventLogprobs } from './logprobs.js'
import type { OutputItem, ResponseObject } from './objects.js'

/**
 * The events of a stored response, rebuilt from its object: for a background response this
 * process no longer (or never) ran, read with `stream=true`. Each text arrives as one delta, so
 * the sequence numbers are the replay's own, not those the live stream had.
 */
export function replayEvents(response: ResponseObject): ResponseEvent[] {
  const events: ResponseEvent[] = []
  const push = (type: string, fields: Record<string, unknown>) => events.push({ type, sequence_number: events.length, ...fields })
  const { usage: _usage, ...started } = { ...response, status: 'in_progress' as const, output: [] as OutputItem[], error: null, incomplete_details: null }
  push('response.created', { response: started })
  push('response.in_progress', { response: started })
  response.output.forEach((item, output_index) => {
    if (item.type === 'message') {
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } })
      item.content.forEach((part, content_index) => {
        const where = { item_id: item.id, output_index, content_index }
        if (part.type === 'output_text') {
          push('response.content_part.added', { ...where, part: { ...part, text: '', annotations: [], ...(part.logprobs ? { logprobs: [] } : {}) } })
          const logprobs = eventLogprobs(part.logprobs)
          if (part.text) push('response.output_text.delta', { ...where, delta: part.text, logprobs })
          push('response.output_text.done', { ...where, text: part.text, logprobs })
        } else {
          push('response.content_part.added', { ...where, part: { ...part, refusal: '' } })
          push('response.refusal.delta', { ...where, delta: part.refusal })
          push('response.refusal.done', { ...where, refusal: part.refusal })
        }
        push('response.content_part.done', { ...where, part })
      })
    } else if (item.type === 'function_call') {
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } })
      const where = { item_id: item.id, output_index }
      if (item.arguments) push('response.function_call_arguments.delta', { ...where, delta: item.arguments })
      push('response.function_call_arguments.done', { ...where, arguments: item.arguments })
    } else {
      push('response.output_item.added', { output_index, item })
    }
    push('response.output_item.done', { output_index, item })
  })
  const end = END_EVENTS[response.status]
  if (response.status === 'failed' && response.error) push('error', { code: response.error.code, message: response.error.message, param: null })
  if (end) push(end, { response })
  return events
}

const END_EVENTS: Partial<Record<ResponseObject['status'], string>> = {
  completed: 'response.completed',
  incomplete: 'response.incomplete',
  failed: 'response.failed',
  // @NOTE the spec file has no cancelled event: the stream of a cancelled response just ends
}
