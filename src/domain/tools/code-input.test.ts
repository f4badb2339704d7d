import { describe, expect, it } from 'vitest'
import { codeOf, partialCode } from './code-input.js'

describe('code of a code_interpreter call', () => {
  it('takes the code argument, a JSON string, or bare code', () => {
    expect(codeOf('{"code":"print(1)\\nx = \\"a\\""}')).toBe('print(1)\nx = "a"')
    expect(codeOf('"print(2)"')).toBe('print(2)')
    expect(codeOf('print(3)')).toBe('print(3)')
    expect(codeOf('{"other": 1}')).toBe('{"other": 1}')
  })

  it('decodes streamed arguments as far as they go, every prefix a prefix of the whole', () => {
    const args = JSON.stringify({ code: 'print("é\\t😀")\nx = 1  # \u2028 done' })
    const whole = codeOf(args)
    let last = ''
    for (let end = 0; end <= args.length; end++) {
      const part = partialCode(args.slice(0, end))
      expect(whole.startsWith(part)).toBe(true)
      expect(part.length).toBeGreaterThanOrEqual(last.length)
      last = part
    }
    expect(last).toBe(whole)
    // an escape cut in half waits for its end
    expect(partialCode('{"code": "a\\')).toBe('a')
    expect(partialCode('{"code": "a\\u00')).toBe('a')
    expect(partialCode('{"code": "a\\ud83d\\ude')).toBe('a')
    expect(partialCode('{"co')).toBe('')
    expect(partialCode('print(1)')).toBe('print(1)')
  })
})
