import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_ANSWER_LOGPROBS } from '../../src/domain/inference/chunks.js'
import { countChatPromptTokens } from '../../src/domain/inference/tokens.js'
import { TEST_LIMITS } from '../../src/providers/test/index.js'
import { countTokens, minTokens } from '../../src/providers/tokenizer.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Every model has a context and an output cap (docs/models.md): requests over them get OpenAI's
// 400s (errors.md D3-D5, the embeddings' per-input and per-request limits) before any work.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client(PROJECT_KEY, { maxRetries: 0 })
})
afterAll(async () => t.close())

const { contextLength, maxOutputTokens } = TEST_LIMITS.chat

async function raw(path: string, body: unknown) {
  const response = await t.fetch(`http://plinth.test/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as any }
}

/** " hello" is one token: `words(n)` is n + 1 tokens. */
const words = (n: number) => 'hello' + ' hello'.repeat(n)

describe('chat: context length and output cap', () => {
  it('refuses a prompt over the context with D3 and its exact count', async () => {
    const messages = [{ role: 'user' as const, content: words(130_000) }]
    const tokens = countChatPromptTokens(messages)
    expect(tokens).toBeGreaterThan(contextLength)
    const { status, body } = await raw('/chat/completions', { model: 'test-echo', messages })
    expect(status).toBe(400)
    expect(body.error).toEqual({
      message: `This model's maximum context length is ${contextLength} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    })
  })

  it('refuses a prompt obviously over the context without encoding it (the count is its lower bound)', async () => {
    const content = 'x'.repeat(20_000_000)
    const { status, body } = await raw('/chat/completions', { model: 'test-scripted', messages: [{ role: 'user', content }] })
    expect(status).toBe(400)
    expect(body.error.code).toBe('context_length_exceeded')
    expect(body.error.message).toContain(`your messages resulted in ${6 + minTokens(content.length)} tokens`)
  })

  it('refuses the 1 MB echo with n: 32 and logprobs at once (it used to take 36 s, 2.9 GB and a 500)', async () => {
    const { status, body } = await raw('/chat/completions', {
      model: 'test-echo',
      messages: [{ role: 'user', content: words(180_000) }],
      n: 32,
      logprobs: true,
      top_logprobs: 20,
    })
    expect(status).toBe(400)
    expect(body.error.code).toBe('context_length_exceeded')
  })

  it('refuses prompt + max_tokens over the context with D4', async () => {
    const messages = [{ role: 'user' as const, content: words(120_000) }]
    const prompt = countChatPromptTokens(messages)
    const error = await client.chat.completions.create({ model: 'test-echo', messages, max_completion_tokens: 10_000 }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error.message).toBe(
      `This model's maximum context length is ${contextLength} tokens. However, you requested ${prompt + 10_000} tokens (${prompt} in the messages, 10000 in the completion). Please reduce the length of the messages or completion.`,
    )
    expect(error.code).toBe('context_length_exceeded')
  })

  it.each(['max_tokens', 'max_completion_tokens'] as const)('refuses %s over the output cap with D5', async (param) => {
    const { status, body } = await raw('/chat/completions', { model: 'test-echo', messages: [{ role: 'user', content: 'hi' }], [param]: 20_000 })
    expect(status).toBe(400)
    expect(body.error).toEqual({
      message: `${param} is too large: 20000. This model supports at most ${maxOutputTokens} completion tokens, whereas you provided 20000.`,
      type: 'invalid_request_error',
      param,
      code: 'invalid_value',
    })
  })

  it('caps an answer without max_tokens at the model output cap', async () => {
    const completion = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: words(20_000) }], n: 2 })
    for (const choice of completion.choices) expect(choice.finish_reason).toBe('length')
    expect(completion.usage!.completion_tokens).toBe(2 * maxOutputTokens)
    expect(countTokens(completion.choices[0].message.content!)).toBe(maxOutputTokens)
  })

  it('bounds the log probabilities an answer holds; the same request streamed is served', async () => {
    const request = { model: 'test-echo', messages: [{ role: 'user' as const, content: words(9_000) }], n: 16, logprobs: true, top_logprobs: 20 }
    // 16 choices × 9001 tokens × (1 + 1 top entry) > MAX_ANSWER_LOGPROBS
    expect(16 * 9001 * 2).toBeGreaterThan(MAX_ANSWER_LOGPROBS)
    const { status, body } = await raw('/chat/completions', request)
    expect(status).toBe(400)
    expect(body.error.param).toBe('logprobs')
    const stream = await client.chat.completions.create({ ...request, n: 2, stream: true })
    let tokens = 0
    for await (const chunk of stream) tokens += chunk.choices[0]?.logprobs?.content?.length ?? 0
    expect(tokens).toBe(2 * 9001)
  })
})

describe('completions and embeddings: limits', () => {
  it('refuses a legacy prompt over the context in the legacy wording', async () => {
    const prompt = words(130_000)
    const tokens = countTokens(prompt)
    const { status, body } = await raw('/completions', { model: 'test-echo', prompt })
    expect(status).toBe(400)
    expect(body.error.message).toBe(
      `This model's maximum context length is ${contextLength} tokens, however you requested ${tokens + 16} tokens (${tokens} in your prompt; 16 for the completion). Please reduce your prompt; or completion length.`,
    )
    const tokenPrompt = await raw('/completions', { model: 'test-echo', prompt: Array(contextLength).fill(15339) })
    expect(tokenPrompt.status).toBe(400)
    expect(tokenPrompt.body.error.code).toBe('context_length_exceeded')
  })

  it('refuses an embedding input over 8192 tokens, and a request over 300,000', async () => {
    const { contextLength: perInput, maxRequestTokens } = TEST_LIMITS.embed
    const long = await raw('/embeddings', { model: 'test-embed', input: ['fine', words(9_000)] })
    expect(long.status).toBe(400)
    // OpenAI's current words, naming the item (code null, as in the older full bodies)
    expect(long.body.error).toEqual({
      message: `Invalid 'input[1]': maximum input length is ${perInput} tokens.`,
      type: 'invalid_request_error',
      param: 'input[1]',
      code: null,
    })
    const alone = await raw('/embeddings', { model: 'test-embed', input: words(9_000) })
    expect(alone.body.error.message).toBe(`Invalid 'input': maximum input length is ${perInput} tokens.`)
    expect(alone.body.error.param).toBe('input')
    const many = await raw('/embeddings', { model: 'test-embed', input: Array(2048).fill(words(199)) })
    expect(many.status).toBe(400)
    expect(many.body.error).toEqual({
      message: `Requested ${2048 * 200} tokens, max ${maxRequestTokens} tokens per request`,
      type: 'max_tokens_per_request',
      param: null,
      code: 'max_tokens_per_request',
    })
    const tokens = await raw('/embeddings', { model: 'test-embed', input: [Array(8193).fill(15339)] })
    expect(tokens.status).toBe(400)
    expect(tokens.body.error).toMatchObject({ message: `Invalid 'input[0]': maximum input length is ${perInput} tokens.`, code: null })
  })
})
