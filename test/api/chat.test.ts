import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

describe('chat completions through the official SDK', () => {
  it('echo model answers with the last user message', async () => {
    const completion = await t.client().chat.completions.create({
      model: 'test-echo',
      messages: [
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'Repeat after me: the quick brown fox.' },
      ],
    })
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0].message.content).toBe('Repeat after me: the quick brown fox.')
    expect(completion.choices[0].finish_reason).toBe('stop')
    expect(completion.usage!.completion_tokens).toBeGreaterThan(3)
  })

  it('streams the same text in several chunks with a usage chunk and [DONE]', async () => {
    const stream = await t.client().chat.completions.create({
      model: 'test-echo',
      messages: [{ role: 'user', content: 'Streaming works chunk by chunk.' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    expect(text).toBe('Streaming works chunk by chunk.')
    expect(chunks.length).toBeGreaterThan(4)
    const last = chunks[chunks.length - 1]
    expect(last.choices).toEqual([])
    expect(last.usage!.completion_tokens).toBeGreaterThan(0)
  })
})
