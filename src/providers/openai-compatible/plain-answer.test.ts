import { describe, expect, it } from 'vitest'
import { chatAnswer } from './passthrough.js'
import { plainAnswer } from './plain-answer.js'

const identity = { id: 'chatcmpl-plinth1', model: 'my-alias' }
const usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21, prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } }
/** What the domain puts in place of the upstream's usage. */
const plinthUsage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 }

/** An answer as OpenAI writes it: compact, every field there. */
function openaiAnswer(overrides: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-upstream-abc',
    object: 'chat.completion',
    created: 1733500000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Hello "there" {x}', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' },
      {
        index: 1,
        message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"usage":{"a":1},"model":"m"}' } }] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: 'fp_44709d6fcb',
    ...overrides,
  }
}

/** The parsed path's answer with the domain's usage, the reference the text must equal. */
function parsedReference(upstream: unknown) {
  const answer = chatAnswer(upstream, identity)
  answer.body.usage = plinthUsage
  return JSON.parse(JSON.stringify(answer.body))
}

describe('plainAnswer: an upstream answer renamed as text', () => {
  it('gives what the parsed path gives, with the usage the domain sets, and reads the usage', () => {
    const upstream = openaiAnswer()
    const answer = plainAnswer(JSON.stringify(upstream), identity)!
    expect(answer).toBeDefined()
    expect(answer.usage).toEqual({ inputTokens: 9, outputTokens: 12, cachedTokens: 2 })
    expect(JSON.parse(answer.serialize!(plinthUsage))).toEqual(parsedReference(upstream))
    // string values that look like keys (escaped quotes, tool arguments) are left as they were
    expect(answer.serialize!(plinthUsage)).toContain('"arguments":"{\\"usage\\":{\\"a\\":1},\\"model\\":\\"m\\"}"')
  })

  it('parses on demand for callers that take an object, without the upstream usage', () => {
    const upstream = openaiAnswer()
    const answer = plainAnswer(JSON.stringify(upstream), identity)!
    const body = answer.body
    expect(body.usage).toBeUndefined()
    body.usage = plinthUsage
    expect(JSON.parse(JSON.stringify(body))).toEqual(parsedReference(upstream))
    expect(answer.body).toBe(body)
    expect(answer.parts()).toEqual(chatAnswer(upstream, identity).parts())
  })

  it.each([
    ['pretty-printed', (u: unknown) => JSON.stringify(u, null, 2)],
    ['no usage', (u: Record<string, unknown>) => JSON.stringify({ ...u, usage: undefined })],
    ['usage null', (u: Record<string, unknown>) => JSON.stringify({ ...u, usage: null })],
    ['usage without token counts', (u: Record<string, unknown>) => JSON.stringify({ ...u, usage: { total_tokens: 3 } })],
    ['an error field', (u: Record<string, unknown>) => JSON.stringify({ ...u, error: { message: 'x' } })],
    ['a chunk object', (u: Record<string, unknown>) => JSON.stringify({ ...u, object: 'chat.completion.chunk' })],
    ['no created', (u: Record<string, unknown>) => JSON.stringify({ ...u, created: undefined })],
    ['id not first', ({ id, ...rest }: Record<string, unknown>) => JSON.stringify({ ...rest, id })],
    ['an escaped id', (u: Record<string, unknown>) => JSON.stringify({ ...u, id: 'a"b' })],
    ['an escaped model', (u: Record<string, unknown>) => JSON.stringify({ ...u, model: 'a\\b' })],
    ['a nested usage key', (u: Record<string, unknown>) => JSON.stringify({ ...u, extra: { usage: {} } })],
    ['a nested model key', (u: Record<string, unknown>) => JSON.stringify({ ...u, extra: { model: 'x' } })],
  ])('leaves an answer with %s to the parsed path', (_, text) => {
    expect(plainAnswer(text(openaiAnswer()), identity)).toBeUndefined()
  })

  it.each([
    ['no refusal (Ollama)', (c: Record<string, unknown>) => ({ ...c, message: { role: 'assistant', content: 'Hi' } })],
    ['no logprobs', ({ logprobs: _, ...c }: Record<string, unknown>) => c],
    ['logprobs given', (c: Record<string, unknown>) => ({ ...c, logprobs: { content: [], refusal: null } })],
    ['no index', ({ index: _, ...c }: Record<string, unknown>) => c],
    ['no role', (c: Record<string, unknown>) => ({ ...c, message: { content: 'Hi', refusal: null } })],
    ['an unknown finish reason', (c: Record<string, unknown>) => ({ ...c, finish_reason: 'eos' })],
    ['a null finish reason', (c: Record<string, unknown>) => ({ ...c, finish_reason: null })],
  ])('leaves a choice with %s to the parsed path', (_, edit) => {
    const upstream = openaiAnswer()
    upstream.choices = [edit(upstream.choices[0] as Record<string, unknown>) as (typeof upstream.choices)[0]]
    expect(plainAnswer(JSON.stringify(upstream), identity)).toBeUndefined()
  })
})
