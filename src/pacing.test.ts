import { describe, expect, it } from 'vitest'
import { answerBody, answerText, JsonText, knownSmallJson } from './pacing.js'

describe('answerBody', () => {
  it('sends an answer kept as JSON text as it is, and an object as its JSON', async () => {
    const text = '{"id":"x","usage":{"prompt_tokens":1}}'
    expect(Buffer.concat(await answerBody(new JsonText(text))).toString()).toBe(text)
    expect(Buffer.concat(await answerBody({ a: [1, 'é'] })).toString()).toBe('{"a":[1,"é"]}')
  })

  it('serialises JSON text inside something else as the value it holds', () => {
    expect(JSON.stringify({ response: new JsonText('{"a":1}') })).toBe('{"response":{"a":1}}')
  })
})

describe('answerText', () => {
  it('is the text of a small or textual answer, and nothing for a large one (answerBody paces those)', () => {
    expect(answerText(new JsonText('{"a":1}'))).toBe('{"a":1}')
    expect(answerText({ a: 'é' })).toBe('{"a":"é"}')
    expect(answerText(knownSmallJson({ b: [1] }))).toBe('{"b":[1]}')
    expect(answerText({ data: Array.from({ length: 5000 }, (_, i) => i) })).toBeUndefined()
  })
})
