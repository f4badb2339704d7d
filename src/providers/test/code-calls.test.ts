import { describe, expect, it } from 'vitest'
import type { GenerateCall } from '../provider.js'
import { codeAnswer, codeCall, fencedPython } from './code-calls.js'

const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } })

function call(over: Partial<GenerateCall>): GenerateCall {
  return { model: 'test-scripted', sampling: { n: 1 } as GenerateCall['sampling'], raw: {}, signal: new AbortController().signal, ...over }
}

describe('test-scripted and the code interpreter', () => {
  it('finds the first fenced python block', () => {
    expect(fencedPython('a\n```python\nprint(1)\n```\n```python\nprint(2)\n```')).toBe('print(1)\n')
    expect(fencedPython('```py\nx\n```')).toBe('x\n')
    expect(fencedPython('```js\nx\n```')).toBeUndefined()
  })

  it('calls code_interpreter only when offered it and tool_choice allows', () => {
    const text = '```python\n2**100\n```'
    const offered = call({ tools: [tool('code_interpreter')] })
    expect(codeCall(offered, text)).toEqual({ tool_calls: [{ name: 'code_interpreter', arguments: { code: '2**100\n' } }] })
    expect(codeCall(call({ tools: [tool('other')] }), text)).toBeUndefined()
    expect(codeCall({ ...offered, toolChoice: 'none' }, text)).toBeUndefined()
    expect(codeCall({ ...offered, toolChoice: { type: 'function', function: { name: 'other' } } }, text)).toBeUndefined()
    expect(codeCall(offered, 'no code here')).toBeUndefined()
  })

  it('answers code interpreter results with the output, and leaves other results alone', () => {
    const assistant = (name: string) => ({
      role: 'assistant' as const,
      content: null,
      tool_calls: [{ id: 'c1', type: 'function' as const, function: { name, arguments: '{}' } }],
    })
    const result = { role: 'tool' as const, tool_call_id: 'c1', content: '42\n' }
    expect(codeAnswer(call({ messages: [assistant('code_interpreter'), result] }))).toEqual({ content: '42' })
    expect(codeAnswer(call({ messages: [assistant('get_weather'), result] }))).toBeUndefined()
  })
})
