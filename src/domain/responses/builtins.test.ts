import { describe, expect, it } from 'vitest'
import type { ChatCompletionCreateParams } from '../../schemas/chat.js'
import type { BuiltinTool } from '../tools/index.js'
import { withoutBuiltins, type Builtins } from './builtins.js'

const builtins = { tools: [{ functionName: 'file_search' } as BuiltinTool], scope: {} as Builtins['scope'], functions: [] } as Builtins
const fn = (name: string) => ({ type: 'function' as const, function: { name } })
const chat = (extra: Partial<ChatCompletionCreateParams>) => ({ model: 'm', messages: [{ role: 'user' as const, content: 'x' }], ...extra }) as ChatCompletionCreateParams

describe('the chat call once max_tool_calls is reached', () => {
  it('offers no built-in tool, and with no tool left neither tool_choice nor parallel_tool_calls', () => {
    const left = withoutBuiltins(chat({ tools: [fn('file_search')], tool_choice: 'auto', parallel_tool_calls: true }), builtins)
    expect(left).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
  })

  it("keeps the request's own functions and their settings; a choice of a built-in one becomes auto", () => {
    const kept = withoutBuiltins(chat({ tools: [fn('file_search'), fn('lookup')], tool_choice: 'required', parallel_tool_calls: false }), builtins)
    expect(kept).toMatchObject({ tools: [fn('lookup')], tool_choice: 'required', parallel_tool_calls: false })
    const named = withoutBuiltins(chat({ tools: [fn('file_search'), fn('lookup')], tool_choice: { type: 'function', function: { name: 'file_search' } } }), builtins)
    expect(named.tool_choice).toBe('auto')
  })
})
