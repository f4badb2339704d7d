import { describe, expect, it } from 'vitest'
import type { GenerateCall } from '../provider.js'
import { fileSearchAnswer, fileSearchCall } from './file-search-calls.js'

const tool = { type: 'function' as const, function: { name: 'file_search', parameters: {} } }

function call(fields: Partial<GenerateCall>): GenerateCall {
  return fields as GenerateCall
}

describe("test-scripted's file search", () => {
  it('searches for the last user message when offered file_search, unless tool_choice keeps it from it', () => {
    expect(fileSearchCall(call({ tools: [tool] }), ' Which volcano? ')).toEqual({
      tool_calls: [{ name: 'file_search', arguments: { query: 'Which volcano?' } }],
    })
    expect(fileSearchCall(call({ tools: [] }), 'Which volcano?')).toBeUndefined()
    expect(fileSearchCall(call({ tools: [tool], toolChoice: 'none' }), 'Which volcano?')).toBeUndefined()
    const other = { type: 'function' as const, function: { name: 'other' } }
    expect(fileSearchCall(call({ tools: [tool], toolChoice: other }), 'Which volcano?')).toBeUndefined()
    expect(fileSearchCall(call({ tools: [tool] }), '  ')).toBeUndefined()
  })

  it('quotes the first line of the best source (headings passed over) with its marker', () => {
    const messages = [
      { role: 'user', content: 'Rivers?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'file_search', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '【2:0†rivers.md】\n# Rivers\nThe Danube is long.\nMore.\n\n【2:1†b.txt】\nOther.' },
    ]
    expect(fileSearchAnswer(call({ messages } as never))).toEqual({ content: 'The Danube is long. 【2:0†rivers.md】' })
    const none = [...messages.slice(0, 2), { role: 'tool', tool_call_id: 'c1', content: 'No passage matches.' }]
    expect(fileSearchAnswer(call({ messages: none } as never))).toEqual({ content: 'No passage matches.' })
    const code = [messages[0], { ...messages[1], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'code_interpreter', arguments: '{}' } }] }, messages[2]]
    expect(fileSearchAnswer(call({ messages: code } as never))).toBeUndefined()
  })
})
