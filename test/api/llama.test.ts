import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { llamaProvider, modelsDir, requireStories, streamedText } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// stories260K at temperature 0 continues "Once upon a time" the same way on every machine (MODELS.md)
const GREEDY_30 =
  ', there was a little girl named Lily. She loved to play outside in the park. One day,'
const MODEL = 'stories260K'

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

beforeAll(async () => {
  dir = modelsDir([`${MODEL}.gguf`])
  t = await createTestApp({
    llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 1024, sequences: 2 } },
    models: [
      {
        id: 'stories-no-embeddings',
        provider: 'llama-cpp',
        ownedBy: 'me',
        options: { path: requireStories(), embeddings: false },
      },
    ],
  })
  client = t.client()
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

describe('llama-cpp: models', () => {
  it('lists the files of the models directory and the configured aliases, saying where they come from', async () => {
    const models = await client.models.list()
    const local = models.data.filter((m) => m.id.startsWith('stories'))
    expect(local.map((m) => [m.id, m.owned_by])).toEqual([
      ['stories-no-embeddings', 'me'],
      [MODEL, 'local'],
    ])
  })
})

describe('llama-cpp: completions', () => {
  it('continues "Once upon a time" deterministically at temperature 0, counting tokens with the model', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
    })
    expect(completion.choices[0].text).toBe(GREEDY_30)
    expect(completion.choices[0].finish_reason).toBe('length')
    // BOS + 4 tokens of the model's own 512-token vocabulary
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 30, total_tokens: 35 })
  })

  it('streams the same text token by token', async () => {
    const stream = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
      stream: true,
    })
    const pieces: string[] = []
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.text ?? '')
    expect(pieces.join('')).toBe(GREEDY_30)
    expect(pieces.filter(Boolean).length).toBeGreaterThan(20)
  })

  it('ends before a stop sequence, which never reaches the client', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
      stop: [' park', 'xyz'],
    })
    expect(completion.choices[0].text).toBe(
      ', there was a little girl named Lily. She loved to play outside in the',
    )
    expect(completion.choices[0].finish_reason).toBe('stop')
  })

  it('serves concurrent requests on parallel sequences', async () => {
    const provider = llamaProvider(t, MODEL)
    let busy = 0
    const watch = setInterval(() => {
      const model = provider.stats().find((s) => s.id === MODEL)
      if (model?.sequences !== undefined)
        busy = Math.max(busy, model.sequences - model.idleSequences!)
    }, 1)
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        client.completions.create({
          model: MODEL,
          prompt: 'Once upon a time',
          max_tokens: 30,
          temperature: 0,
        }),
      ),
    )
    clearInterval(watch)
    expect(busy).toBe(2)
    expect(answers.map((a) => a.choices[0].text)).toEqual(Array(4).fill(GREEDY_30))
  })

  it('gives the same output for the same seed, and n choices', async () => {
    const run = async (seed: number) =>
      (
        await client.completions.create({
          model: MODEL,
          prompt: 'Once upon a time',
          max_tokens: 12,
          temperature: 1,
          seed,
          n: 2,
        })
      ).choices.map((c) => c.text)
    const first = await run(7)
    expect(first).toHaveLength(2)
    expect(await run(7)).toEqual(first)
  })

  it('honours logit_bias (-100 bans a token) and penalties', async () => {
    const banned = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 6,
      temperature: 0,
      logit_bias: { '432': -100 },
    })
    expect(banned.choices[0].text.startsWith(',')).toBe(false)
    const penalized = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
      frequency_penalty: 2,
      presence_penalty: 1,
    })
    expect(penalized.choices[0].text).not.toBe(GREEDY_30)
    await expect(
      client.completions.create({
        model: MODEL,
        prompt: 'x',
        max_tokens: 1,
        logit_bias: { '99999': 5 },
      }),
    ).rejects.toMatchObject({ status: 400, param: 'logit_bias' })
  })

  it('gives logprobs with top alternatives', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 5,
      temperature: 0,
      logprobs: 2,
    })
    const logprobs = completion.choices[0].logprobs!
    expect(logprobs.tokens!.join('')).toBe(completion.choices[0].text)
    expect(logprobs.tokens![0]).toBe(',')
    for (const [i, top] of logprobs.top_logprobs!.entries()) {
      expect(Object.keys(top)).toHaveLength(2)
      expect(logprobs.token_logprobs![i]).toBeLessThanOrEqual(0)
    }
  })
})

describe('llama-cpp: chat', () => {
  const ask = {
    model: MODEL,
    messages: [{ role: 'user' as const, content: 'Tell me a story about a cat.' }],
    max_tokens: 24,
    temperature: 0,
  }

  it('answers through the chat template, streaming the same text as the whole answer', async () => {
    const whole = await client.chat.completions.create(ask)
    expect(whole.choices[0].message.content!.length).toBeGreaterThan(10)
    expect(whole.usage!.completion_tokens).toBe(24)
    expect(await streamedText(client, ask)).toEqual({
      text: whole.choices[0].message.content,
      finish: whole.choices[0].finish_reason,
    })
  })

  it('gives chat logprobs whose tokens spell the content', async () => {
    const answer = await client.chat.completions.create({
      ...ask,
      max_tokens: 6,
      logprobs: true,
      top_logprobs: 3,
    })
    const content = answer.choices[0].logprobs!.content!
    expect(content.map((c) => c.token).join('')).toBe(answer.choices[0].message.content)
    expect(content.every((c) => c.top_logprobs.length === 3 && c.logprob <= 0)).toBe(true)
  })
})

describe('llama-cpp: embeddings', () => {
  it('embeds as unit vectors, float or base64, and shortens with dimensions', async () => {
    const full = await client.embeddings.create({
      model: MODEL,
      input: ['a small cat', 'a big dog'],
      encoding_format: 'float',
    })
    expect(full.data).toHaveLength(2)
    const vector = full.data[0].embedding
    expect(vector).toHaveLength(64)
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5)
    const base64 = await client.embeddings.create({
      model: MODEL,
      input: ['a small cat', 'a big dog'],
    })
    expect(base64.data[0].embedding.map((v) => Number(v.toFixed(5)))).toEqual(
      vector.map((v) => Number(v.toFixed(5))),
    )
    const short = await client.embeddings.create({
      model: MODEL,
      input: 'a small cat',
      dimensions: 8,
      encoding_format: 'float',
    })
    const expected = vector.slice(0, 8).map((v) => v / Math.hypot(...vector.slice(0, 8)))
    short.data[0].embedding.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5))
    expect(full.usage.prompt_tokens).toBeGreaterThan(4)
  })

  it('answers 400 for too many dimensions, or a model that does not embed', async () => {
    await expect(
      client.embeddings.create({ model: MODEL, input: 'x', dimensions: 65 }),
    ).rejects.toMatchObject({ status: 400, param: 'dimensions' })
    await expect(
      client.embeddings.create({ model: 'stories-no-embeddings', input: 'x' }),
    ).rejects.toMatchObject({ status: 400, param: 'model' })
  })
})
