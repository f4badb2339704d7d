import type { GenerateCall } from '../provider.js'
import type { ScriptedReply } from './script.js'
import { messageText } from './text.js'

/**
 * The function the Assistants file search is offered as (domain/tools/file-search.ts names it;
 * docs/models.md documents what test-scripted does with it).
 */
export const FILE_SEARCH_FUNCTION = 'file_search'

/** A source of the tool's output: its `【n:m†file】` marker line, then its text. */
const SOURCE = /^(【\d+:\d+†[^】\n]*】)\n([\s\S]*?)(?=\n\n【|$(?![\s\S]))/m

/** The first line of a source's text that says something (not a markdown heading). */
function firstLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean)
  return lines.find((line) => !line.startsWith('#')) ?? lines[0] ?? ''
}

/**
 * test-scripted's own use of file search: offered it (and not kept from it by tool_choice), it
 * searches for the last user message, once per user message.
 */
export function fileSearchCall(call: GenerateCall, userText: string): ScriptedReply | undefined {
  if (!userText.trim() || !(call.tools ?? []).some((t) => t.function.name === FILE_SEARCH_FUNCTION)) return undefined
  const choice = call.toolChoice
  if (choice === 'none' || (choice && typeof choice === 'object' && choice.function.name !== FILE_SEARCH_FUNCTION)) return undefined
  return { tool_calls: [{ name: FILE_SEARCH_FUNCTION, arguments: { query: userText.trim() } }] }
}

/**
 * After file search results only, test-scripted quotes the first line of the best source
 * (a markdown heading passed over) and
 * cites it with its marker (the answer's `file_citation`); without a source it says so.
 */
export function fileSearchAnswer(call: GenerateCall): ScriptedReply | undefined {
  const messages = call.messages ?? []
  const names = new Map<string, string>()
  for (const m of messages) {
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name)
  }
  const outputs: string[] = []
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'tool'; i--) {
    const m = messages[i]
    if (m.role !== 'tool' || names.get(m.tool_call_id) !== FILE_SEARCH_FUNCTION) return undefined
    outputs.unshift(messageText(m))
  }
  if (!outputs.length) return undefined
  for (const output of outputs) {
    const source = SOURCE.exec(output)
    if (source) return { content: `${firstLine(source[2])} ${source[1]}` }
  }
  return { content: outputs.join('\n').trim() }
}
