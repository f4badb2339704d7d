import OpenAI from 'openai'
import type { Completion } from 'openai/resources/completions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeTokens } from '../../src/providers/tokenizer.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of stream) out.push(item)
  return out
}

function textOf(chunks: Completion[], index = 0): string {
  return chunks
    .flatMap((c) => c.choices.filter((choice) => choice.index === index))
    .map((choice) => choice.text)
    .join('')
}

describe('legacy completions', () => {
  it('completes a string prompt', async () => {
    const completion = await client.completions.create({
      model: 'test-echo',
      prompt: 'Say this is a test',
    })
    expect(completion.object).toBe('text_completion')
    expect(completion.id).toMatch(/^cmpl-/)
    expect(completion.model).toBe('test-echo')
    expect(completion.choices).toEqual([
      { index: 0, text: 'Say this is a test', logprobs: null, finish_reason: 'stop' },
    ])
    expect(completion.usage).toMatchObject({
      prompt_tokens: 5,
      completion_tokens: 5,
      total_tokens: 10,
    })
  })

  it('an array of prompts gives one choice per prompt, in order', async () => {
    const completion = await client.completions.create({
      model: 'test-echo',
      prompt: ['first', 'second one', 'third'],
    })
    expect(completion.choices.map((c) => [c.index, c.text])).toEqual([
      [0, 'first'],
      [1, 'second one'],
      [2, 'third'],
    ])
    expect(completion.usage!.prompt_tokens).toBe(4)
  })

  it('accepts a token array and an array of token arrays', async () => {
    const single = await client.completions.create({
      model: 'test-echo',
      prompt: encodeTokens('tokens in, text out'),
    })
    expect(single.choices[0].text).toBe('tokens in, text out')
    const several = await client.completions.create({
      model: 'test-echo',
      prompt: [encodeTokens('alpha'), encodeTokens('beta gamma')],
    })
    expect(several.choices.map((c) => c.text)).toEqual(['alpha', 'beta gamma'])
  })

  it('rejects token ids outside the vocabulary with a 400', async () => {
    for (const prompt of [[99_999_999], [[1, 2], [12_345_678_901]]]) {
      const error = await client.completions.create({ model: 'test-echo', prompt }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error.param).toBe('prompt')
    }
  })

  it('n gives n choices per prompt, indexed prompt-major', async () => {
    const completion = await client.completions.create({
      model: 'test-echo',
      prompt: ['a b', 'c d'],
      n: 2,
    })
    expect(completion.choices.map((c) => [c.index, c.text])).toEqual([
      [0, 'a b'],
      [1, 'a b'],
      [2, 'c d'],
      [3, 'c d'],
    ])
    const streamed = await collect(
      await client.completions.create({
        model: 'test-echo',
        prompt: ['a b', 'c d'],
        n: 2,
        stream: true,
      }),
    )
    for (const [index, text] of [
      [0, 'a b'],
      [1, 'a b'],
      [2, 'c d'],
      [3, 'c d'],
    ] as const) {
      expect(textOf(streamed, index)).toBe(text)
    }
  })

  it('echo puts the prompt before the completion', async () => {
    const completion = await client.completions.create({
      model: 'test-scripted',
      prompt: 'hello there',
      echo: true,
      max_tokens: 100,
    })
    expect(completion.choices[0].text).toBe('hello thereHello! How can I help you today?')
    const chunks = await collect(
      await client.completions.create({
        model: 'test-scripted',
        prompt: 'hello there',
        echo: true,
        stream: true,
        max_tokens: 100,
      }),
    )
    expect(textOf(chunks)).toBe('hello thereHello! How can I help you today?')
  })

  it("refuses echo with logprobs, as OpenAI does, rather than log probabilities that leave the prompt out", async () => {
    for (const stream of [false, true]) {
      const error = await client.completions
        .create({ model: 'test-echo', prompt: 'score this prompt', echo: true, logprobs: 0, max_tokens: 0, stream })
        .catch((e) => e)
      expect(error.status).toBe(400)
      expect(error.error).toEqual({
        message: "Setting 'echo' and 'logprobs' at the same time is not supported for this model.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      })
    }
    // either alone is served
    const echoed = await client.completions.create({ model: 'test-echo', prompt: 'a b', echo: true, max_tokens: 5 })
    expect(echoed.choices[0].text).toBe('a ba b')
    const scored = await client.completions.create({ model: 'test-echo', prompt: 'a b', logprobs: 1, max_tokens: 5 })
    expect(scored.choices[0].logprobs?.tokens).toEqual(['a', ' b'])
  })

  it('stop cuts the text, as a string or an array', async () => {
    const single = await client.completions.create({
      model: 'test-echo',
      prompt: 'one two three',
      stop: ' two',
    })
    expect(single.choices[0]).toMatchObject({ text: 'one', finish_reason: 'stop' })
    const several = await client.completions.create({
      model: 'test-echo',
      prompt: 'one two three',
      stop: ['three', 'two'],
    })
    expect(several.choices[0].text).toBe('one ')
  })

  it('max_tokens defaults to 16 and ends a long answer with finish_reason length', async () => {
    const prompt = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')
    const completion = await client.completions.create({ model: 'test-echo', prompt })
    expect(completion.choices[0].finish_reason).toBe('length')
    expect(completion.usage!.completion_tokens).toBe(16)
    expect(prompt.startsWith(completion.choices[0].text)).toBe(true)
    const three = await client.completions.create({ model: 'test-echo', prompt, max_tokens: 3 })
    expect(three.usage!.completion_tokens).toBe(3)
    expect(three.choices[0].finish_reason).toBe('length')
    const roomy = await client.completions.create({ model: 'test-echo', prompt, max_tokens: 1000 })
    expect(roomy.choices[0]).toMatchObject({ text: prompt, finish_reason: 'stop' })
  })

  it('logprobs gives the legacy logprobs object', async () => {
    const completion = await client.completions.create({
      model: 'test-echo',
      prompt: 'abc def',
      logprobs: 2,
    })
    const logprobs = completion.choices[0].logprobs!
    expect(logprobs.tokens!.join('')).toBe('abc def')
    expect(logprobs.token_logprobs).toEqual(logprobs.tokens!.map(() => 0))
    expect(logprobs.text_offset![0]).toBe(0)
    expect(logprobs.text_offset).toHaveLength(logprobs.tokens!.length)
    logprobs.top_logprobs!.forEach((top, i) => expect(top).toEqual({ [logprobs.tokens![i]]: 0 }))

    const chunks = await collect(
      await client.completions.create({
        model: 'test-echo',
        prompt: 'abc def',
        logprobs: 0,
        stream: true,
      }),
    )
    const tokens = chunks.flatMap((c) => c.choices[0]?.logprobs?.tokens ?? [])
    expect(tokens.join('')).toBe('abc def')
  })

  it('streams chunks ending with a usage chunk and [DONE]', async () => {
    const chunks = await collect(
      await client.completions.create({
        model: 'test-echo',
        prompt: 'streaming legacy text',
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    expect(textOf(chunks)).toBe('streaming legacy text')
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
    for (const chunk of chunks) {
      expect(chunk.object).toBe('text_completion')
      expect(chunk.model).toBe('test-echo')
    }
    const last = chunks.at(-1)!
    expect(last.choices).toEqual([])
    expect(last.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 })
    const ends = chunks.flatMap((c) => c.choices.filter((choice) => choice.finish_reason))
    expect(ends.map((c) => c.finish_reason)).toEqual(['stop'])

    const bare = await collect(
      await client.completions.create({ model: 'test-echo', prompt: 'no usage', stream: true }),
    )
    expect(bare.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true)
  })

  it('streamed text equals non-streamed text', async () => {
    for (const model of ['test-echo', 'test-scripted']) {
      const whole = await client.completions.create({
        model,
        prompt: 'hello world, again',
        max_tokens: 50,
      })
      const chunks = await collect(
        await client.completions.create({
          model,
          prompt: 'hello world, again',
          max_tokens: 50,
          stream: true,
        }),
      )
      expect(textOf(chunks)).toBe(whole.choices[0].text)
    }
  })

  it('records usage for streamed and non-streamed answers', async () => {
    await t.ctx.services.usage.settled()
    await t.ctx.storage.db.deleteFrom('usage_records').execute()
    await client.completions.create({ model: 'test-echo', prompt: 'four tokens right here' })
    await collect(
      await client.completions.create({
        model: 'test-echo',
        prompt: 'four tokens right here',
        stream: true,
      }),
    )
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db
      .selectFrom('usage_records')
      .select((eb) => ['operation', 'model', eb.fn.sum<number>('requests').as('requests'), eb.fn.sum<number>('input_tokens').as('input'), eb.fn.sum<number>('output_tokens').as('output')])
      .groupBy(['operation', 'model'])
      .execute()
    // both requests, whether flushed in one row or two
    expect(rows.map((r) => [r.operation, r.model, Number(r.requests), Number(r.input), Number(r.output)])).toEqual([['completions', 'test-echo', 2, 8, 8]])
  })

  it('refuses best_of < n, a bad model, and an embeddings model', async () => {
    const bestOf = await client.completions
      .create({ model: 'test-echo', prompt: 'x', n: 3, best_of: 2 })
      .catch((e) => e)
    expect(bestOf).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bestOf.error.param).toBe('best_of')
    const unknown = await client.completions.create({ model: 'nope', prompt: 'x' }).catch((e) => e)
    expect(unknown.status).toBe(404)
    expect(unknown.error.code).toBe('model_not_found')
    // OpenAI answers 404 for a model this endpoint does not serve
    const embed = await client.completions
      .create({ model: 'test-embed', prompt: 'x' })
      .catch((e) => e)
    expect(embed.status).toBe(404)
    expect(embed.error).toEqual({
      message: 'The model `test-embed` is not supported in the v1/completions endpoint.',
      type: 'invalid_request_error',
      param: 'model',
      code: null,
    })
    const noPrompt = await client.completions
      .create({ model: 'test-echo' } as never)
      .catch((e) => e)
    expect(noPrompt.error).toMatchObject({
      message: "Missing required parameter: 'prompt'.",
      param: 'prompt',
      code: 'missing_required_parameter',
    })
  })

  it('a scripted failure before the stream starts is a plain 429', async () => {
    const error = await client.completions
      .create({ model: 'test-scripted', prompt: 'fail with 429', stream: true })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.error.type).toBe('requests')
  })
})
