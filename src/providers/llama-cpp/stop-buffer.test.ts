import { describe, expect, it } from 'vitest'
import { StopBuffer } from './stop-buffer.js'

const feed = (stops: string[], pieces: string[]) => {
  const buffer = new StopBuffer<number>(stops)
  const out: string[] = []
  let matched: string | undefined
  for (const [i, text] of pieces.entries()) {
    const result = buffer.push({ text, data: i })
    out.push(...result.emit.map((p) => p.text))
    if (result.stopped) return { out, matched: result.matched }
  }
  out.push(...buffer.flush().map((p) => p.text))
  return { out, matched }
}

describe('StopBuffer', () => {
  it('passes text straight through without stop sequences', () => {
    expect(feed([], ['a', 'b'])).toEqual({ out: ['a', 'b'], matched: undefined })
  })

  it('cuts at a stop sequence split across pieces, and never emits any of it', () => {
    expect(feed(['END'], ['hello E', 'N', 'D more'])).toEqual({ out: ['hello '], matched: 'END' })
  })

  it('holds back a possible start of a stop sequence until it is known not to be one', () => {
    const buffer = new StopBuffer<number>(['\nUser:'])
    expect(buffer.push({ text: 'Hi\n', data: 0 }).emit).toEqual([])
    expect(buffer.push({ text: 'Us', data: 1 }).emit).toEqual([])
    expect(buffer.push({ text: 'ed', data: 2 }).emit.map((p) => p.text)).toEqual([
      'Hi\n',
      'Us',
      'ed',
    ])
  })

  it('reports the earliest of several stop sequences', () => {
    expect(feed(['cd', 'b'], ['abcd'])).toEqual({ out: ['a'], matched: 'b' })
  })

  it('keeps the data of a piece it cuts', () => {
    const buffer = new StopBuffer<string>(['.'])
    expect(buffer.push({ text: 'end. more', data: 'x' })).toEqual({
      emit: [{ text: 'end', data: 'x' }],
      stopped: true,
      matched: '.',
    })
  })

  it('flushes held text when generation ends', () => {
    expect(feed(['STOP'], ['a S', 'T'])).toEqual({ out: ['a S', 'T'], matched: undefined })
  })
})
