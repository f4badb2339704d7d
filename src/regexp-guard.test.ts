import { describe, expect, it } from 'vitest'
import { userPattern } from './regexp-guard.js'

// Without the guard each of these matches takes tens of seconds to minutes (2^30 paths): the
// bound below is a hang, not a speed.
describe('regexp guard', () => {
  it('ends a catastrophically backtracking match at once, with the same answer', () => {
    const started = performance.now()
    expect(new RegExp('^(a+)+$').test('a'.repeat(30) + '!')).toBe(false)
    expect(new RegExp('^(a|aa)+$').test('a'.repeat(40) + 'b')).toBe(false)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(new RegExp('^(a+)+$').test('a'.repeat(30))).toBe(true)
  })

  it("guards a JSON Schema pattern (read with the u flag) where the flag changes nothing", () => {
    const started = performance.now()
    expect(userPattern('^(a+)+$').test('a'.repeat(30) + '!')).toBe(false)
    expect(userPattern('^([a-z]+)*\\d$').test('abcdefghijklmnopqrstuvwxyzabcd!')).toBe(false)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('keeps the u flag where it matters: surrogate pairs, code point escapes, property classes', () => {
    expect(userPattern('^.$').test('😀')).toBe(true) // one code point
    expect(userPattern('^..$').test('😀')).toBe(false)
    expect(userPattern('^\\u{1F600}$').test('😀')).toBe(true)
    expect(userPattern('^\\p{L}+$').test('héllo')).toBe(true)
    expect(userPattern('^[a-z]{3}$').test('abc')).toBe(true)
    expect(() => userPattern('\\a')).toThrow(SyntaxError) // an identity escape u refuses
  })
})
