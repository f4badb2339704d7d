import type { GenerateCall } from '../provider.js'
import type { ScriptedReply } from './script.js'
import { messageText } from './text.js'

/**
 * The function the Assistants code interpreter is offered as (domain/tools/code-interpreter.ts
 * names it; docs/models.md documents what test-scripted does with it).
 */
export const CODE_FUNCTION = 'code_interpreter'

const FENCE = /```(?:python3?|py)[^\S\n]*\n([\s\S]*?)```/i

/** The first fenced python block of the text, if any. */
export function fencedPython(text: string): string | undefined {
  return FENCE.exec(text)?.[1]
}

/**
 * test-scripted's own use of the code interpreter: offered it (and not kept from it by
 * tool_choice), it runs the first fenced python block of the last user message.
 */
export function codeCall(call: GenerateCall, userText: string): ScriptedReply | undefined {
  const code = fencedPython(userText)
  if (code === undefined || !(call.tools ?? []).some((t) => t.function.name === CODE_FUNCTION)) return undefined
  const choice = call.toolChoice
  if (choice === 'none' || (choice && typeof choice === 'object' && choice.function.name !== CODE_FUNCTION)) return undefined
  return { tool_calls: [{ name: CODE_FUNCTION, arguments: { code } }] }
}

/**
 * After code interpreter results only, test-scripted answers with what the code printed (its
 * output, the files it wrote as links), so an answer carries the result as a model's would.
 */
export function codeAnswer(call: GenerateCall): ScriptedReply | undefined {
  const messages = call.messages ?? []
  const names = new Map<string, string>()
  for (const m of messages) {
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name)
  }
  const outputs: string[] = []
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'tool'; i--) {
    const m = messages[i]
    if (m.role !== 'tool' || names.get(m.tool_call_id) !== CODE_FUNCTION) return undefined
    outputs.unshift(messageText(m).trim())
  }
  return outputs.length ? { content: outputs.join('\n') } : undefined
}
