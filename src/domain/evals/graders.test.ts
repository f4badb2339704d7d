import { describe, expect, it } from 'vitest'
import { pickLabel, readScore, stringCheck } from './graders.js'
import { loadItems, parseJsonl } from './items.js'
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

describe('text_similarity', async () => {
  it('scores identical texts 1 and unrelated texts 0 on every metric', async () => {
    for (const metric of ['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'] as const) {
      expect(await similarity(metric, 'the cat sat on the mat', 'the cat sat on the mat'), metric).toBeCloseTo(1)
      expect(await similarity(metric, 'xyz-uvw', 'abc def'), metric).toBe(0)
    }
  })

  it('fuzzy_match is rapidfuzz ratio / 100', async () => {
    // rapidfuzz: fuzz.ratio("this is a test", "this is a test!") == 96.55...
    expect(await fuzzyRatio('this is a test', 'this is a test!')).toBeCloseTo(0.9655, 3)
    expect(await fuzzyRatio('', '')).toBe(1)
  })

  it('rouge and bleu give partial credit', async () => {
    // unigrams: 5 of 6 in common → P = R = 5/6
    expect(await similarity('rouge_1', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(5 / 6)
    // bigrams: 4 of 5
    expect(await similarity('rouge_2', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(4 / 5)
    expect(await similarity('rouge_l', 'the cat sat on the rug', 'the cat sat on the mat')).toBeCloseTo(5 / 6)
    const bleu = await similarity('bleu', 'the cat sat on the rug', 'the cat sat on the mat')
    expect(bleu).toBeGreaterThan(0.5)
    expect(bleu).toBeLessThan(1)
    expect(await similarity('bleu', 'Paris', 'Paris')).toBe(1)
    // word order matters to meteor's fragmentation penalty
    expect(await similarity('meteor', 'mat the on sat cat the', 'the cat sat on the mat')).toBeLessThan(await similarity('meteor', 'the cat sat on the mat', 'the cat sat on the mat'))
  })

  it('keeps the event loop turning while it compares two long texts', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(400)
    let longest = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
    }, 1)
    try {
      for (const metric of ['fuzzy_match', 'rouge_l', 'meteor'] as const) {
        expect(await similarity(metric, long, long + 'x'), metric).toBeGreaterThan(0.99)
      }
    } finally {
      clearInterval(timer)
    }
    // the 10,800-character fuzzy match alone is over 100 million cells
    expect(longest).toBeLessThan(50)
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
      { item: { a: 1 }, sample: { output_text: 'x' }, at: { fileId: 'file-1', line: 1 } },
      { item: { b: 2 }, at: { fileId: 'file-1', line: 3 } },
    ])
    await expect(parseJsonl('{"item": {}}\n[1]\n', 'file-1')).rejects.toThrow('Line 2 of file file-1 is not a JSON object.')
  })

  it('reads a file chunk by chunk: a character or a line cut between chunks, CRLF, no final newline', async () => {
    const text = '{"item": {"q": "café ☕"}}\r\n{"item": {"q": "second"}}'
    const bytes = Buffer.from(text)
    // cut inside the two-byte é and the three-byte ☕
    const cuts = [0, bytes.indexOf(0xa9), bytes.indexOf(0x98) , 30, bytes.length]
    const chunks = cuts.slice(1).map((end, i) => new Uint8Array(bytes.subarray(cuts[i], end)))
    const files = { content: async () => ({ file: { bytes: bytes.length }, open: async () => chunks }) }
    const items = await loadItems({ files, storage: undefined } as never, { projectId: 'proj' } as never, { type: 'file_id', id: 'file-1' })
    expect(items.map((i) => i.item)).toEqual([{ q: 'café ☕' }, { q: 'second' }])
    expect(items.map((i) => i.at?.line)).toEqual([1, 2])
  })
})
