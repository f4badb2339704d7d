import { describe, expect, it } from 'vitest'
import { pickLabel, readScore, stringCheck } from './graders.js'
import { parseJsonl } from './items.js'
import { fuzzyRatio, similarity } from './similarity.js'
import { render } from './template.js'

describe('templates', () => {
  it('fills item and sample paths; other values as JSON, missing ones empty, other names untouched', () => {
    const context = { item: { q: 'Paris', n: 3, tags: ['a'], deep: { x: 'y' } }, sample: { output_text: 'ok' } }
    expect(render('{{item.q}} / {{ item.n }} / {{item.tags}} / {{item.deep.x}}', context)).toBe('Paris / 3 / ["a"] / y')
    expect(render('{{sample.output_text}}|{{item.none}}|{{other.x}}', context)).toBe('ok||{{other.x}}')
    expect(render('{{sample.output_text}}', { item: {} })).toBe('')
  })
})

describe('string_check', () => {
  it('eq, ne, like (contains) and ilike (contains, any case)', () => {
    expect(stringCheck('eq', 'Paris', 'Paris')).toBe(true)
    expect(stringCheck('eq', 'Paris', 'paris')).toBe(false)
    expect(stringCheck('ne', 'Paris', 'Rome')).toBe(true)
    expect(stringCheck('like', 'It is Paris.', 'Paris')).toBe(true)
    expect(stringCheck('like', 'It is Paris.', 'paris')).toBe(false)
    expect(stringCheck('ilike', 'It is PARIS.', 'paris')).toBe(true)
  })
})

describe('text_similarity', () => {
  it('scores identical texts 1 and unrelated texts 0 on every metric', () => {
    for (const metric of ['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'] as const) {
      expect(similarity(metric, 'the cat sat on the mat', 'the cat sat on the mat'), metric).toBeCloseTo(1)
      expect(similarity(metric, 'xyz-uvw', 'abc def'), metric).toBe(0)
    }
  })

  it('fuzzy_match is rapidfuzz ratio / 100', () => {
    // rapidfuzz: fuzz.ratio("this is a test", "this is a test!") == 96.55...
    expect(fuzzyRatio('this is a test', 'this is a test!')).toBeCloseTo(0.9655, 3)
    expect(fuzzyRatio('', '')).toBe(1)
  })

  it('rouge and bleu give partial credit', () => {
    // unigrams: 5 of 6 in common → P = R = 5/6
    expect(similarity('rouge_1', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(5 / 6)
    // bigrams: 4 of 5
    expect(similarity('rouge_2', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(4 / 5)
    expect(similarity('rouge_l', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(5 / 6)
    const bleu = similarity('bleu', 'the cat sat on the rug', 'the cat sat on the mat')
    expect(bleu).toBeGreaterThan(0.5)
    expect(bleu).toBeLessThan(1)
    expect(similarity('bleu', 'Paris', 'Paris')).toBe(1)
    // word order matters to meteor's fragmentation penalty
    expect(similarity('meteor', 'mat the on sat cat the', 'the cat sat on the mat')).toBeLessThan(similarity('meteor', 'the cat sat on the mat', 'the cat sat on the mat'))
  })
})

describe('model grader answers', () => {
  it('reads the label an answer names', () => {
    expect(pickLabel('positive', ['positive', 'negative'])).toBe('positive')
    expect(pickLabel(' "Negative." ', ['positive', 'negative'])).toBe('negative')
    expect(pickLabel('I think it is negative overall', ['positive', 'negative'])).toBe('negative')
    expect(pickLabel('unsure', ['positive', 'negative'])).toBeUndefined()
  })

  it('reads a score from a number, JSON or text', () => {
    expect(readScore('0.8')).toBe(0.8)
    expect(readScore('{"score": 3}')).toBe(3)
    expect(readScore('{"result": 0.25}')).toBe(0.25)
    expect(readScore('I give it 7 out of 10')).toBe(7)
    expect(readScore('no idea')).toBeUndefined()
  })
})

describe('jsonl items', () => {
  it('reads {item, sample} lines and bare items, and names a bad line', async () => {
    expect(await parseJsonl('{"item": {"a": 1}, "sample": {"output_text": "x"}}\n\n{"b": 2}\n', 'file-1')).toEqual([
      { item: { a: 1 }, sample: { output_text: 'x' } },
      { item: { b: 2 } },
    ])
    await expect(parseJsonl('{"item": {}}\n[1]\n', 'file-1')).rejects.toThrow('Line 2 of file file-1 is not a JSON object.')
  })
})
