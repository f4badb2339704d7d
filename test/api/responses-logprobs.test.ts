import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// `include: ["message.output_text.logprobs"]` and `top_logprobs` (docs/responses.md, "Log
// probabilities") on the test models, which are certain of each token (logprob 0, one
// alternative: itself). Every object and event is checked against the spec by the validating fetch.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const INCLUDE = ['message.output_text.logprobs' as const]

type Part = OpenAI.Responses.ResponseOutputText
const textPart = (response: OpenAI.Responses.Response) => (response.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as Part

describe('log probabilities in a response', () => {
  it('gives each output_text token with its bytes and top_logprobs, and echoes top_logprobs', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'Tokens with odds, café', include: INCLUDE, top_logprobs: 2 })
    const part = textPart(response)
    expect(part.logprobs!.map((entry) => entry.token).join('')).toBe('Tokens with odds, café')
    for (const entry of part.logprobs!) {
      expect(entry.logprob).toBe(0)
      expect(entry.bytes).toEqual([...Buffer.from(entry.token, 'utf8')])
      expect(entry.top_logprobs).toEqual([{ token: entry.token, logprob: 0, bytes: entry.bytes }])
    }
    expect(response.top_logprobs).toBe(2)
    // stored as answered
    const got = await client.responses.retrieve(response.id)
    expect(textPart(got).logprobs).toEqual(part.logprobs)
  })

  it('top_logprobs 0 (the default): each token without alternatives', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'two words', include: INCLUDE })
    const part = textPart(response)
    expect(part.logprobs!.length).toBeGreaterThan(0)
    expect(part.logprobs!.every((entry) => entry.top_logprobs.length === 0)).toBe(true)
    expect(response.top_logprobs).toBe(0)
  })

  it('without the include value: empty logprobs, even with top_logprobs', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'no odds', top_logprobs: 5 })
    expect(textPart(response).logprobs).toEqual([])
    expect(response.top_logprobs).toBe(5)
  })

  it('streams them on each output_text.delta, all of them on .done and in the part', async () => {
    const stream = await client.responses.create({ model: 'test-scripted', input: 'hello there', include: INCLUDE, top_logprobs: 1, stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) events.push(event)
    const deltas = events.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === 'response.output_text.delta')
    expect(deltas.length).toBeGreaterThan(1)
    for (const delta of deltas) {
      expect(delta.logprobs.map((entry) => entry.token).join('')).toBe(delta.delta)
      // the events' entries have no bytes (SDK 6's ResponseTextDeltaEvent.Logprob)
      expect(delta.logprobs[0]).toEqual({ token: delta.logprobs[0].token, logprob: 0, top_logprobs: [{ token: delta.logprobs[0].token, logprob: 0 }] })
    }
    const done = events.find((e): e is OpenAI.Responses.ResponseTextDoneEvent => e.type === 'response.output_text.done')!
    expect(done.logprobs).toEqual(deltas.flatMap((delta) => delta.logprobs))
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    const part = textPart(completed.response)
    expect(part.logprobs!.map(({ token, logprob }) => ({ token, logprob }))).toEqual(done.logprobs.map(({ token, logprob }) => ({ token, logprob })))
    expect(part.logprobs!.every((entry) => entry.bytes.length > 0)).toBe(true)
    // the stored response's events, replayed: the same log probabilities
    const replayed: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await client.responses.retrieve(completed.response.id, { stream: true })) replayed.push(event)
    const again = replayed.find((e): e is OpenAI.Responses.ResponseTextDoneEvent => e.type === 'response.output_text.done')!
    expect(again.logprobs).toEqual(done.logprobs)
  })

  it('without the include value the events carry empty logprobs', async () => {
    const stream = await client.responses.create({ model: 'test-echo', input: 'plain stream', stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) events.push(event)
    for (const event of events) {
      if (event.type === 'response.output_text.delta' || event.type === 'response.output_text.done') expect(event.logprobs).toEqual([])
    }
    expect(textPart((events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response).logprobs).toEqual([])
  })

  it('top_logprobs out of range or not an integer: the 400 of the value', async () => {
    for (const [value, message, code] of [
      [21, "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.", 'integer_above_max_value'],
      [-1, "Invalid 'top_logprobs': integer below minimum value. Expected a value >= 0, but got -1 instead.", 'integer_below_min_value'],
      [2.5, "Invalid type for 'top_logprobs': expected an integer, but got a decimal instead.", 'invalid_type'],
    ] as const) {
      const error = await client.responses.create({ model: 'test-echo', input: 'x', include: INCLUDE, top_logprobs: value }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error).toEqual({ message, type: 'invalid_request_error', param: 'top_logprobs', code })
    }
  })
})
