import { describe, expect, it } from 'vitest'
import { OutputCollector } from './output.js'

const SENTINEL = '<<end:abc>>'

function collect(max: number, chunks: string[]): { outputs: string[]; collector: OutputCollector } {
  const collector = new OutputCollector(max)
  const outputs: string[] = []
  collector.expect(SENTINEL, (text) => outputs.push(text))
  for (const chunk of chunks) collector.push(Buffer.from(chunk))
  return { outputs, collector }
}

describe('OutputCollector', () => {
  it('ends a call at its sentinel, even split across chunks, and keeps what follows for the next', () => {
    const whole = `hello\n${SENTINEL}later`
    for (let cut = 0; cut <= whole.length; cut++) {
      const { outputs, collector } = collect(100, [whole.slice(0, cut), whole.slice(cut)])
      expect(outputs).toEqual(['hello\n'])
      expect(collector.take()).toBe('later')
    }
  })

  it('keeps at most maxBytes and says how much was dropped', () => {
    const { outputs } = collect(4, ['abcdef', 'gh', `ij${SENTINEL}`])
    expect(outputs).toEqual(['abcd\n[output truncated: 6 more bytes]'])
  })

  it('does not count a sentinel split at the cap as output', () => {
    const { outputs } = collect(5, ['abc<<en', `d:abc>>`])
    expect(outputs).toEqual(['abc'])
  })

  it('waits while the sentinel has not come', () => {
    const { outputs, collector } = collect(100, ['partial <<end:ab'])
    expect(outputs).toEqual([])
    collector.push(Buffer.from('d>> not it'))
    expect(outputs).toEqual([])
    expect(collector.take()).toBe('partial <<end:abd>> not it')
  })
})
