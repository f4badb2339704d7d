import { describe, expect, it } from 'vitest'
import { parseRange } from './range.js'

function refusal(header: string, size: number) {
  try {
    parseRange(header, size)
  } catch (error) {
    return error as { status: number; headers: Record<string, string> }
  }
  throw new Error(`${header} against ${size} bytes was not refused`)
}

describe('parseRange', () => {
  it('reads a-b, a- and -n against the size', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 })
    expect(parseRange('bytes=99-99', 100)).toEqual({ start: 99, end: 99 })
  })

  it('reads the unit in any case and spaces around the ranges', () => {
    expect(parseRange('Bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes= 0-9 ', 100)).toEqual({ start: 0, end: 9 })
  })

  it('serves several ranges that merge into one as that one', () => {
    expect(parseRange('bytes=0-4,5-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=10-20,0-15', 100)).toEqual({ start: 0, end: 20 })
    expect(parseRange('bytes=-10,95-', 100)).toEqual({ start: 90, end: 99 })
  })

  it('serves the satisfiable range when others lie past the end', () => {
    expect(parseRange('bytes=0-1,200-300', 100)).toEqual({ start: 0, end: 1 })
  })

  it('ignores what it does not understand, ranges that stay apart, and no header', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('', 100)).toBeUndefined()
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined()
    expect(parseRange('items=0-1', 100)).toBeUndefined()
    expect(parseRange('bytes=9-2', 100)).toBeUndefined()
    expect(parseRange('bytes=', 100)).toBeUndefined()
    expect(parseRange('bytes=-', 100)).toBeUndefined()
    expect(parseRange('bytes=x-5', 100)).toBeUndefined()
    expect(parseRange('bytes=0-1,x-', 100)).toBeUndefined()
    expect(parseRange('0-9', 100)).toBeUndefined()
  })

  it('refuses a range wholly past the end with 416 and bytes */size', () => {
    for (const [header, size] of [
      ['bytes=100-', 100],
      ['bytes=100-200', 100],
      ['bytes=-0', 100],
      ['bytes=100-,200-', 100],
      ['bytes=0-', 0],
      ['bytes=-0', 0],
    ] as const) {
      const error = refusal(header, size)
      expect(error.status).toBe(416)
      expect(error.headers).toEqual({ 'content-range': `bytes */${size}` })
    }
  })

  it('answers an empty body whole to a suffix range (RFC 9110: satisfiable, selects nothing)', () => {
    expect(parseRange('bytes=-5', 0)).toBeUndefined()
  })
})
