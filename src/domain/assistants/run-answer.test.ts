import { describe, expect, it } from 'vitest'
import { annotate, annotationDeltas, answerContent } from './run-answer.js'

const csv = { type: 'file_path' as const, text: 'sandbox:/mnt/data/out.csv', file_id: 'file-1' }

describe('answer annotations', () => {
  it('annotates each place a link is quoted, in code points, not a longer path', () => {
    const text = '😀 [out](sandbox:/mnt/data/out.csv) and sandbox:/mnt/data/out.csv.bak, sandbox:/mnt/data/out.csv.'
    const found = annotate(text, { images: [], annotations: [csv] })
    const at = (index: number) => [...text.slice(0, index)].length
    const starts = [at(text.indexOf(csv.text)), at(text.lastIndexOf(csv.text))]
    expect(starts).toEqual([8, 70])
    expect(found).toEqual(
      starts.map((start) => ({
        type: 'file_path',
        text: csv.text,
        start_index: start,
        end_index: start + csv.text.length,
        file_path: { file_id: 'file-1' },
      })),
    )
    expect([...text].slice(8, 8 + csv.text.length).join('')).toBe(csv.text)
  })

  it('puts images before the text, and an answer of images alone has no text part', () => {
    expect(answerContent('hi', { images: ['file-img'], annotations: [] })).toEqual([
      { type: 'image_file', image_file: { file_id: 'file-img' } },
      { type: 'text', text: { value: 'hi', annotations: [] } },
    ])
    expect(answerContent('', { images: ['file-img'], annotations: [] })).toEqual([
      { type: 'image_file', image_file: { file_id: 'file-img' } },
    ])
  })

  it('streams each annotation once: a citation when its marker closes, a link once the path ends', () => {
    const cite = { type: 'file_citation' as const, text: '【0:0†a.txt】', file_id: 'file-2', quote: 'q' }
    const answer = { images: [], annotations: [csv, cite] }
    expect(annotationDeltas('Fact 【0:0†a.tx', answer, 0, false)).toEqual([])
    const cited = annotationDeltas('Fact 【0:0†a.txt】', answer, 0, false)
    expect(cited).toEqual([
      { index: 0, type: 'file_citation', text: cite.text, start_index: 5, end_index: 16, file_citation: { file_id: 'file-2', quote: 'q' } },
    ])
    const text = 'Fact 【0:0†a.txt】 see sandbox:/mnt/data/out.csv'
    expect(annotationDeltas(text, answer, 1, false)).toEqual([])
    expect(annotationDeltas(text, answer, 1, true)).toMatchObject([{ index: 1, type: 'file_path' }])
    expect(annotationDeltas(text + '.bak', answer, 1, true)).toEqual([])
  })
})
