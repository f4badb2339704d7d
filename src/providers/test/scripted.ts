import { ApiError } from '../../errors.js'
import type { Tool } from '../../schemas/chat.js'
import type { GenerateCall, StreamPart } from '../provider.js'
import { countTokens, tokenPieces } from '../tokenizer.js'
import { codeAnswer, codeCall } from './code-calls.js'
import { fileSearchAnswer, fileSearchCall } from './file-search-calls.js'
import { synthesize } from './json-synth.js'
import type { Script, ScriptedReply } from './script.js'
import { emitPieces, lastUserText, messageText, sleep, textPieces } from './text.js'

export const DEFAULT_SCRIPTED_TEXT = 'This is a scripted reply from test-scripted.'

/**
 * test-scripted: matches the last user message against the script's rules (case-insensitive
 * substring or regex) and plays the first matching reply. Without a matching rule it follows
 * fixed, documented steps: answer tool results (code interpreter results with the output itself),
 * run a fenced python block through the code interpreter when offered it, call requested tools
 * with arguments that satisfy their schema, fill a json_schema response format, or say
 * DEFAULT_SCRIPTED_TEXT.
 */
export async function* scriptedStream(call: GenerateCall, script: Script): AsyncGenerator<StreamPart> {
  const reply = chooseReply(call, script)
  if (reply.delay_ms) await sleep(reply.delay_ms, call.signal)
  if (reply.error && reply.error_after_chunks === undefined) throw scriptedError(reply)
  const text = reply.tool_calls?.length ? undefined : await textPieces(call, reply.content ?? '')
  for (let choice = 0; choice < call.sampling.n; choice++) {
    if (!text) {
      yield* emitToolCalls(call, choice, reply)
      continue
    }
    let emitted = 0
    for await (const part of emitPieces(call, choice, text, { chunkDelayMs: reply.chunk_delay_ms })) {
      if (part.type === 'choice-end' && reply.finish_reason) {
        yield { ...part, finishReason: reply.finish_reason }
        continue
      }
      yield part
      if (part.type === 'text-delta' && reply.error && ++emitted >= (reply.error_after_chunks ?? 0)) {
        throw scriptedError(reply)
      }
    }
    if (reply.error) throw scriptedError(reply)
  }
}

function scriptedError(reply: ScriptedReply) {
  const e = reply.error!
  return new ApiError(e.status, e.message, e.type ?? (e.status >= 500 ? 'server_error' : 'invalid_request_error'), e.param ?? null, e.code ?? null)
}

function chooseReply(call: GenerateCall, script: Script): ScriptedReply {
  const messages = call.messages ?? []
  const last = messages[messages.length - 1]
  const userText = lastUserText(call)
  if (last?.role !== 'tool') {
    const rule = script.rules.find((r) => r.test(userText) && mayCallTools(call, r.reply))
    if (rule) return limitToolCalls(call, rule.reply)
  }
  if (last?.role === 'tool' || last?.role === 'function') {
    return codeAnswer(call) ?? fileSearchAnswer(call) ?? { content: `Tool results: ${toolResults(call).join('; ')}` }
  }
  const code = codeCall(call, userText) ?? fileSearchCall(call, userText)
  if (code) return code
  const tools = pickTools(call, userText)
  if (tools.length) return { tool_calls: tools.map((t) => ({ name: t.function.name })) }
  const format = call.responseFormat
  if (format?.type === 'json_schema') {
    return { content: JSON.stringify(synthesize(format.json_schema.schema ?? { type: 'object' })) }
  }
  if (format?.type === 'json_object') return { content: JSON.stringify({ reply: DEFAULT_SCRIPTED_TEXT }) }
  return script.default ?? { content: DEFAULT_SCRIPTED_TEXT }
}

/**
 * A rule's tool calls are only played when the request allows them: its tools include each
 * named function, tool_choice is not 'none' and, when it names a function, names this one.
 * Otherwise the rule is passed over, as a model never calls a tool it was not offered.
 */
function mayCallTools(call: GenerateCall, reply: ScriptedReply): boolean {
  if (!reply.tool_calls?.length) return true
  const offered = new Set((call.tools ?? []).map((t) => t.function.name))
  const choice = call.toolChoice
  if (choice === 'none') return false
  if (choice && typeof choice === 'object' && reply.tool_calls.some((c) => c.name !== choice.function.name)) return false
  return reply.tool_calls.every((c) => offered.has(c.name))
}

function limitToolCalls(call: GenerateCall, reply: ScriptedReply): ScriptedReply {
  if (call.parallelToolCalls !== false || (reply.tool_calls?.length ?? 0) <= 1) return reply
  return { ...reply, tool_calls: reply.tool_calls!.slice(0, 1) }
}

/** Tool results since the last assistant turn, as "name: content". */
function toolResults(call: GenerateCall): string[] {
  const messages = call.messages ?? []
  const names = new Map<string, string>()
  for (const m of messages) {
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name)
  }
  const results: string[] = []
  for (let i = messages.length - 1; i >= 0 && messages[i].role !== 'assistant'; i--) {
    const m = messages[i]
    const name = m.role === 'tool' ? (names.get(m.tool_call_id) ?? m.tool_call_id) : m.role === 'function' ? m.name : ''
    results.unshift(`${name}: ${messageText(m)}`)
  }
  return results
}

function pickTools(call: GenerateCall, userText: string): Tool[] {
  const tools = call.tools ?? []
  const choice = call.toolChoice
  if (!tools.length || choice === 'none') return []
  if (choice && typeof choice === 'object') return tools.filter((t) => t.function.name === choice.function.name).slice(0, 1)
  const text = userText.toLowerCase()
  const mentioned = tools.filter((t) => {
    const name = t.function.name.toLowerCase()
    return text.includes(name) || text.includes(name.replace(/[_-]/g, ' '))
  })
  const picked = mentioned.length ? mentioned : choice === 'required' ? tools.slice(0, 1) : []
  return call.parallelToolCalls === false ? picked.slice(0, 1) : picked
}

/**
 * Tool calls as a model streams them: id and name first, then the arguments token by token.
 * max_tokens counts the names and arguments; past it the call is cut off with finish_reason
 * 'length', leaving incomplete JSON, as a real model's would be.
 */
async function* emitToolCalls(call: GenerateCall, choice: number, reply: ScriptedReply): AsyncGenerator<StreamPart> {
  const byName = new Map((call.tools ?? []).map((t) => [t.function.name, t]))
  let budget = call.sampling.maxTokens ?? Infinity
  let index = 0
  for (const toolCall of reply.tool_calls ?? []) {
    const schema = byName.get(toolCall.name)?.function.parameters
    const args =
      typeof toolCall.arguments === 'string'
        ? toolCall.arguments
        : JSON.stringify(toolCall.arguments ?? synthesize(schema ?? { type: 'object', properties: {} }))
    const id = `call_${deterministicSuffix(`${choice}:${index}:${toolCall.name}:${args}`)}`
    yield { type: 'tool-call-delta', choice, index, id, name: toolCall.name, argumentsDelta: '' }
    budget -= countTokens(toolCall.name)
    for (const piece of tokenPieces(args)) {
      if (budget <= 0) {
        yield { type: 'choice-end', choice, finishReason: 'length' }
        return
      }
      if (reply.chunk_delay_ms) await sleep(reply.chunk_delay_ms, call.signal)
      yield { type: 'tool-call-delta', choice, index, argumentsDelta: piece }
      budget -= 1
    }
    index++
  }
  yield { type: 'choice-end', choice, finishReason: 'tool_calls' }
}

function deterministicSuffix(seed: string): string {
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < seed.length; i++) {
    h1 = Math.imul(h1 ^ seed.charCodeAt(i), 16777619) >>> 0
    h2 = Math.imul(h2 ^ seed.charCodeAt(i), 2246822519) >>> 0
  }
  return (h1.toString(36) + h2.toString(36)).padEnd(14, '0').slice(0, 14)
}
