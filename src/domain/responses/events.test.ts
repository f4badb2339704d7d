import { describe, expect, it } from 'vitest'
import { containerCitations, ResponseEvents } from './events.js'

const SOURCE = { text: '【0:1†notes.txt】', file_id: 'file-abc', filename: 'notes.txt' }

function run(deltas: string[]) {
  const events = new ResponseEvents()
  events.cite([SOURCE])
  const all = [...deltas.flatMap((content) => events.delta({ content })), ...events.finish('completed')]
  const streamed = all.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta as string)
  const done = all.find((e) => e.type === 'response.content_part.done')!.part as { text: string; annotations: unknown[] }
  return { streamed, done }
}

describe('citation markers in a response', () => {
  it('are taken out of the text, streamed or not, even when split across deltas', () => {
    const { streamed, done } = run(['Notes say so. ', '【0:', '1†no', 'tes.txt】', ' Done.'])
    expect(done.text).toBe('Notes say so.  Done.')
    expect(streamed.join('')).toBe(done.text)
    expect(streamed.some((d) => /[【】]/.test(d))).toBe(false)
    expect(done.annotations).toEqual([{ type: 'file_citation', index: 14, file_id: 'file-abc', filename: 'notes.txt' }])
  })

  it('each marker cites where it stood; unknown markers and lone brackets stay text', () => {
    const { done } = run(['A【0:1†notes.txt】 B【9:9†other.txt】 C【0:1†notes.txt】 and 【open'])
    expect(done.text).toBe('A B【9:9†other.txt】 C and 【open')
    expect(done.annotations).toEqual([
      { type: 'file_citation', index: 1, file_id: 'file-abc', filename: 'notes.txt' },
      { type: 'file_citation', index: 'A B【9:9†other.txt】 C'.length, file_id: 'file-abc', filename: 'notes.txt' },
    ])
  })

  it('a bracket that never closes within a marker length is released as text', () => {
    const long = '【' + 'x'.repeat(200)
    const { streamed, done } = run([long, ' end'])
    expect(done.text).toBe(long + ' end')
    expect(streamed.join('')).toBe(done.text)
    expect(done.annotations).toEqual([])
  })
})

const certain = (token: string) => ({ token, logprob: 0, bytes: [...Buffer.from(token)], top_logprobs: [] })

describe('log probabilities in a response', () => {
  it('go with the delta that shows their text: a held marker carries them to the next', () => {
    const events = new ResponseEvents()
    events.cite([SOURCE])
    const all = [
      ...events.delta({ content: 'Yes ' }, [certain('Yes'), certain(' ')]),
      ...events.delta({ content: '【0:1†notes.txt】' }, [certain('【0:1†notes.txt】')]),
      ...events.delta({ content: ' ok' }, [certain(' ok')]),
      ...events.finish('completed'),
    ]
    const deltas = all.filter((e) => e.type === 'response.output_text.delta')
    expect(deltas.map((e) => (e.logprobs as { token: string }[]).map((l) => l.token))).toEqual([['Yes', ' '], ['【0:1†notes.txt】', ' ok']])
    const done = all.find((e) => e.type === 'response.output_text.done')!
    expect((done.logprobs as unknown[]).length).toBe(4)
    const part = all.find((e) => e.type === 'response.content_part.done')!.part as { logprobs: unknown[] }
    expect(part.logprobs).toEqual([certain('Yes'), certain(' '), certain('【0:1†notes.txt】'), certain(' ok')])
  })

  it("are bounded as a non-streamed chat answer's are: over it, the response fails", () => {
    const events = new ResponseEvents()
    const alternatives = Array.from({ length: 20 }, () => ({ token: 'a', logprob: -1, bytes: [97] }))
    const many = Array.from({ length: 13_000 }, () => ({ ...certain('a'), top_logprobs: alternatives }))
    expect(() => events.delta({ content: 'a'.repeat(13_000) }, many)).toThrow(/^The response's log probabilities are over the limit of 262144 entries/)
  })
})

describe('container file citations', () => {
  const file = { container_id: 'cntr_1', file_id: 'cfile_1', path: '/mnt/data/out.csv', filename: 'out.csv' }
  it('cites each quoted link target, in code points, not a longer path', () => {
    const text = '😀 [out](sandbox:/mnt/data/out.csv) not sandbox:/mnt/data/out.csv.bak but sandbox:/mnt/data/out.csv.'
    const found = containerCitations(text, [file])
    const at = (index: number) => [...text.slice(0, index)].length
    const link = 'sandbox:/mnt/data/out.csv'
    const starts = [at(text.indexOf(link)), at(text.lastIndexOf(link))]
    expect(found).toEqual(starts.map((start) => ({ type: 'container_file_citation', container_id: 'cntr_1', file_id: 'cfile_1', filename: 'out.csv', start_index: start, end_index: start + link.length })))
    expect([...text].slice(starts[0], starts[0] + link.length).join('')).toBe(link)
  })

  it('cites nothing the response did not write', () => {
    expect(containerCitations('see sandbox:/mnt/data/other.csv', [file])).toEqual([])
  })
})
