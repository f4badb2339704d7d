import { describe, expect, it } from 'vitest'
import { answerBody, JsonText } from './pacing.js'

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
