import { describe, expect, it } from 'vitest'
import { speechPieces } from './sentences.js'

describe('speechPieces', () => {
  it('the first sentence goes alone, the rest are grouped', () => {
    const pieces = speechPieces('One. Two! Three? Four; five: six\nseven')
    expect(pieces).toEqual(['One.', 'Two! Three? Four; five: six seven'])
  })

  it('a long sentence is cut at a comma or a space, never losing words', () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`)
    const text = words.slice(0, 100).join(' ') + ', ' + words.slice(100).join(' ')
    const pieces = speechPieces(text)
    expect(pieces[0].length).toBeLessThanOrEqual(160)
    for (const piece of pieces.slice(1)) expect(piece.length).toBeLessThanOrEqual(400)
    expect(pieces.join(' ').replace(/,/g, '').split(/\s+/)).toEqual(words)
  })

  it('text with nothing to say gives no pieces; unspaced text is cut anywhere', () => {
    expect(speechPieces(' ... !? ')).toEqual([])
    const pieces = speechPieces('x'.repeat(1000))
    expect(pieces.join('').replace(/ /g, '')).toBe('x'.repeat(1000))
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(400)
  })
})
