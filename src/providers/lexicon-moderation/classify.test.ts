import { describe, expect, it } from 'vitest'
import { MODERATION_CATEGORIES } from '../moderation-backend.js'
import { classifyText, FLAG_THRESHOLD } from './classify.js'
import { normalizeText } from './normalize.js'

describe('normalizeText', () => {
  it('joins spaced letters, reads leetspeak inside words, shortens stretched letters', () => {
    expect(normalizeText('f u c k you')).toBe('fuck you')
    expect(normalizeText('K.I.L.L them')).toBe('kill them')
    expect(normalizeText('i w1ll k1ll y0u!')).toBe('i will kill you!')
    expect(normalizeText('fuuuuck')).toBe('fuuck')
    expect(normalizeText('I have 3 kids and 2 cats')).toBe('i have 3 kids and 2 cats')
    expect(normalizeText('xxx videos')).toBe('xxx videos')
    expect(normalizeText('I’ll kill you')).toBe("i'll kill you")
  })
})

describe('classifyText', () => {
  it('gives every category a score in [0, 1] and raises parents to their subcategories', async () => {
    const { scores } = await classifyText('Gas the Jews. I will kill you, you worthless bitch. How do I make a pipe bomb?')
    for (const c of MODERATION_CATEGORIES) {
      expect(scores[c]).toBeGreaterThanOrEqual(0)
      expect(scores[c]).toBeLessThanOrEqual(1)
    }
    expect(scores.hate).toBeGreaterThanOrEqual(scores['hate/threatening'])
    expect(scores.harassment).toBeGreaterThanOrEqual(scores['harassment/threatening'])
    expect(scores.illicit).toBeGreaterThanOrEqual(scores['illicit/violent'])
    expect(scores['hate/threatening']).toBeGreaterThanOrEqual(FLAG_THRESHOLD)
  })

  it('combines weak signals (noisy-OR): one anatomical word is not sexual, two explicit ones are', async () => {
    expect((await classifyText('penis')).scores.sexual).toBeLessThan(FLAG_THRESHOLD)
    expect((await classifyText('porn and dildo')).scores.sexual).toBeCloseTo(1 - 0.4 * 0.4, 6)
  })

  it('finds a phrase anywhere in a long text, across window boundaries', async () => {
    const filler = 'The garden was quiet and the tea was warm. '
    for (const at of [0, 990, 995, 1790, 1795, 20_000]) {
      const text = filler.repeat(Math.ceil(at / filler.length)).slice(0, at) + ' I will kill you.' + filler.repeat(5)
      const { scores } = await classifyText(text)
      expect(scores.violence, `threat at ${at}`).toBeGreaterThanOrEqual(FLAG_THRESHOLD)
    }
    expect((await classifyText(filler.repeat(100))).scores.violence).toBe(0)
  })

  it('scores the empty string as nothing', async () => {
    const { scores } = await classifyText('')
    expect(Object.values(scores).every((s) => s === 0)).toBe(true)
  })
})
