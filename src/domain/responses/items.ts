import { invalidRequest } from '../../errors.js'
import type { InputContent, InputItem } from '../../schemas/responses.js'
import { newId } from '../../storage/ids.js'
import type { TextLogprob } from './logprobs.js'

/**
 * Items as a response keeps them and input_items lists them (the spec's ItemResource): every
 * item has an id and a status, a message's content is a list of parts, an image part has its
 * detail. The conversation a later response continues is made of these.
 */
export type InputPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string | null; file_id: string | null; detail: 'low' | 'high' | 'auto' }
  | { type: 'input_file'; file_id: string | null; filename?: string; file_data?: string }
/** The model's text has its `logprobs` (empty unless asked for), as OpenAI's output_text has. */
export type OutputPart = { type: 'output_text'; text: string; annotations: unknown[]; logprobs?: TextLogprob[] } | { type: 'refusal'; refusal: string }

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete'

export type StoredItem =
  | { id: string; type: 'message'; role: 'user' | 'system' | 'developer'; status: ItemStatus; content: InputPart[] }
  | { id: string; type: 'message'; role: 'assistant'; status: ItemStatus; content: OutputPart[] }
  | { id: string; type: 'function_call'; call_id: string; name: string; arguments: string; status: ItemStatus }
  | { id: string; type: 'function_call_output'; call_id: string; output: string; status: ItemStatus }

export type FunctionCallItem = Extract<StoredItem, { type: 'function_call' }>

const INPUT_PARTS = "'input_text', 'input_image', and 'input_file'"
const OUTPUT_PARTS = "'output_text' and 'refusal'"

function wrongPart(type: string, supported: string, param: string) {
  return invalidRequest(`Invalid value: '${type}'. Supported values are: ${supported}.`, param, 'invalid_value')
}

/**
 * The request's `input` as stored items; `reference` finds an item_reference's item. `name` is
 * the list's parameter in errors (a conversation's `items`).
 */
export async function storedInput(
  input: string | InputItem[],
  reference: (id: string, param: string) => Promise<StoredItem>,
  name = 'input',
): Promise<StoredItem[]> {
  if (typeof input === 'string') {
    return [{ id: newId('msg_'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: input }] }]
  }
  const items: StoredItem[] = []
  for (const [i, item] of input.entries()) {
    const param = `${name}[${i}]`
    switch (item.type) {
      case 'item_reference':
        items.push(await reference(item.id, `${param}.id`))
        break
      case 'function_call':
        items.push({
          id: item.id ?? newId('fc_'),
          type: 'function_call',
          call_id: item.call_id,
          name: item.name,
          arguments: item.arguments,
          status: item.status ?? 'completed',
        })
        break
      case 'function_call_output':
        items.push({ id: item.id ?? newId('fco_'), type: 'function_call_output', call_id: item.call_id, output: item.output, status: item.status ?? 'completed' })
        break
      case 'message':
        items.push(messageItem(item, param))
        break
    }
  }
  return items
}

function messageItem(item: Extract<InputItem, { type: 'message' }>, param: string): StoredItem {
  const id = item.id ?? newId('msg_')
  const status = item.status ?? 'completed'
  const parts: InputContent[] = typeof item.content === 'string' ? [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }] : item.content
  if (item.role === 'assistant') {
    const content = parts.map((part, j): OutputPart => {
      // EasyInputMessage lets an assistant turn be written with input_text
      if (part.type === 'output_text' || part.type === 'input_text') return { type: 'output_text', text: part.text, annotations: [] }
      if (part.type === 'refusal') return { type: 'refusal', refusal: part.refusal }
      throw wrongPart(part.type, OUTPUT_PARTS, `${param}.content[${j}]`)
    })
    return { id, type: 'message', role: 'assistant', status, content }
  }
  const content = parts.map((part, j): InputPart => {
    const at = `${param}.content[${j}]`
    switch (part.type) {
      case 'input_text':
        return { type: 'input_text', text: part.text }
      case 'input_image':
        if (!part.image_url && !part.file_id) {
          throw invalidRequest(`Invalid '${at}': one of 'image_url' or 'file_id' must be provided.`, at, 'invalid_value')
        }
        return { type: 'input_image', image_url: part.image_url ?? null, file_id: part.file_id ?? null, detail: part.detail ?? 'auto' }
      case 'input_file': {
        if (!part.file_id && !part.file_data) {
          throw invalidRequest(`Invalid '${at}': one of 'file_id' or 'file_data' must be provided.`, at, 'invalid_value')
        }
        const file: InputPart = { type: 'input_file', file_id: part.file_id ?? null }
        if (part.filename !== undefined) file.filename = part.filename
        if (part.file_data !== undefined) file.file_data = part.file_data
        return file
      }
      default:
        throw wrongPart(part.type, INPUT_PARTS, at)
    }
  })
  return { id, type: 'message', role: item.role, status, content }
}

/**
 * Function calls and their outputs must pair up, as OpenAI checks them: an output answers a call
 * made before it, and every call the conversation made has its output before the model is asked
 * again (the output of a call from the previous response comes in the new input).
 */
export function checkCallPairs(items: StoredItem[]): void {
  const pending = new Map<string, FunctionCallItem>()
  for (const item of items) {
    if (item.type === 'function_call') pending.set(item.call_id, item)
    else if (item.type === 'function_call_output') {
      if (!pending.has(item.call_id)) {
        throw invalidRequest(`No tool call found for function call output with call_id ${item.call_id}.`, 'input', null)
      }
      pending.delete(item.call_id)
    }
  }
  const [missing] = pending.values()
  if (missing) throw invalidRequest(`No tool output found for function call ${missing.call_id}.`, 'input', null)
}
