import type { ChatMessageParam, UserContentPart as UserPart } from '../../schemas/chat.js'
import type { InputPart, StoredItem } from './items.js'

/** How an image file id becomes a URL a chat model reads (a data URL of the file's bytes). */
export type ImageFiles = (fileId: string) => Promise<string>

/**
 * The conversation as chat messages: instructions first as a system message, messages by role,
 * consecutive function calls as one assistant message's tool_calls (joined to the assistant
 * text right before them), each output as a tool message.
 */
export async function chatMessages(instructions: string | null | undefined, items: StoredItem[], imageFiles: ImageFiles): Promise<ChatMessageParam[]> {
  const messages: ChatMessageParam[] = []
  if (instructions) messages.push({ role: 'system', content: instructions })
  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'assistant') {
          const text = item.content.map((p) => (p.type === 'output_text' ? p.text : '')).join('')
          const refusal = item.content.map((p) => (p.type === 'refusal' ? p.refusal : '')).join('')
          messages.push({ role: 'assistant', content: text, ...(refusal ? { refusal } : {}) })
        } else if (item.role === 'user') {
          messages.push({ role: 'user', content: await userParts(item.content, imageFiles) })
        } else {
          const text = item.content.map((p) => (p.type === 'input_text' ? p.text : '')).join('\n')
          messages.push({ role: item.role, content: text })
        }
        break
      case 'function_call': {
        const call = { id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } }
        const last = messages[messages.length - 1]
        if (last?.role === 'assistant') (last.tool_calls ??= []).push(call)
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
        break
      }
      case 'function_call_output':
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output })
        break
    }
  }
  return messages
}

async function userParts(content: InputPart[], imageFiles: ImageFiles): Promise<string | UserPart[]> {
  if (content.length === 1 && content[0].type === 'input_text') return content[0].text
  const parts: UserPart[] = []
  for (const part of content) {
    if (part.type === 'input_text') parts.push({ type: 'text', text: part.text })
    else if (part.type === 'input_image') {
      const url = part.image_url ?? (await imageFiles(part.file_id!))
      parts.push({ type: 'image_url', image_url: { url, detail: part.detail } })
    } else {
      const file: { file_id?: string; filename?: string; file_data?: string } = {}
      if (part.file_id) file.file_id = part.file_id
      if (part.filename !== undefined) file.filename = part.filename
      if (part.file_data !== undefined) file.file_data = part.file_data
      parts.push({ type: 'file', file })
    }
  }
  return parts
}
