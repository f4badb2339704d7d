import { describe, expect, it } from 'vitest'
import { parseRange } from './range.js'

describe('parseRange', () => {
  it('reads a-b, a- and -n against the size', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 })
  })

  it('ignores what it does not understand, and the absence of a header', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined()
    expect(parseRange('items=0-1', 100)).toBeUndefined()
    expect(parseRange('bytes=9-2', 100)).toBeUndefined()
  })

  it('refuses a range wholly past the end with 416', () => {
    expect(() => parseRange('bytes=100-', 100)).toThrow(expect.objectContaining({ status: 416 }))
    expect(() => parseRange('bytes=-0', 100)).toThrow(expect.objectContaining({ status: 416 }))
  })
})
