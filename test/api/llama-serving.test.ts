import fs from 'node:fs'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getEngine } from '../../src/providers/llama-cpp/engine.js'
import { eventually, llamaProvider, modelsDir, requireStories } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// How Plinth serves local models: sharing, queueing, cancelling, memory, and bad input.
const MODEL = 'stories260K'
const long = {
  model: MODEL,
  messages: [{ role: 'user' as const, content: 'Tell me a long story.' }],
  max_tokens: 1500,
  temperature: 0,
}

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>
const stats = () =>
  llamaProvider(t, MODEL)
    .stats()
    .find((s) => s.id === MODEL)!

beforeAll(async () => {
  const model = fs.readFileSync(requireStories())
  dir = modelsDir([`${MODEL}.gguf`], {
    'corrupt.gguf': 'this is not a GGUF file at all',
    'truncated.gguf': model.subarray(0, 600_000),
  })
  t = await createTestApp({
    llama: {
      modelsDir: dir.dir,
      maxQueue: 1,
      defaults: { threads: 1, contextSize: 256, sequences: 1 },
    },
  })
  client = t.client()
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

describe('llama-cpp: sequences and the queue', () => {
  it('sets threads explicitly and holds a sequence per request', async () => {
    await client.completions.create({ model: MODEL, prompt: 'Once', max_tokens: 1 })
    expect(stats()).toMatchObject({
      loaded: true,
      threads: 1,
      sequences: 1,
      idleSequences: 1,
      waiting: 0,
      leases: 0,
    })
  })

  it('defaults threads to the physical cores, still passing them explicitly', async () => {
    const app = await createTestApp({
      llama: { modelsDir: dir.dir, defaults: { contextSize: 256, sequences: 1 } },
    })
    try {
      await app.client().completions.create({ model: MODEL, prompt: 'Once', max_tokens: 1 })
      const { cpuMathCores } = await getEngine(false)
      expect(llamaProvider(app, MODEL).stats()[0].threads).toBe(cpuMathCores)
    } finally {
      await app.close()
    }
  })

  it('frees the sequence at once when a streaming client goes away', async () => {
    const stream = await client.chat.completions.create({ ...long, stream: true })
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break // leaving the loop aborts the request
    const left = performance.now()
    await eventually(() => stats().idleSequences === 1 && stats().leases === 0)
    // 1500 tokens take over a second to generate: the slot came back long before that
    expect(performance.now() - left).toBeLessThan(800)
    const next = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 5,
      temperature: 0,
    })
    expect(next.choices[0].text).toBe(', there was a little')
  })

  it('queues a request for a busy sequence, and answers 429 in OpenAI shape when the queue is full', async () => {
    const controller = new AbortController()
    const holding = await client.chat.completions.create(
      { ...long, stream: true },
      { signal: controller.signal },
    )
    const iterator = holding[Symbol.asyncIterator]()
    await iterator.next() // the stream holds the only sequence while nobody reads it
    const queued = client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 3,
      temperature: 0,
    })
    await eventually(() => stats().waiting === 1)
    const refused = await client.completions
      .create({ model: MODEL, prompt: 'x', max_tokens: 1 })
      .catch((e) => e)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect(refused.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' })
    expect(refused.headers.get('retry-after')).toBe('1')
    controller.abort()
    expect((await queued).choices[0].text).toBe(', there was')
  })

  it('lets a queued client leave the queue when it goes away', async () => {
    const controller = new AbortController()
    const holding = await client.chat.completions.create(
      { ...long, stream: true },
      { signal: controller.signal },
    )
    await holding[Symbol.asyncIterator]().next()
    const waiter = new AbortController()
    const queued = client.completions
      .create({ model: MODEL, prompt: 'x', max_tokens: 1 }, { signal: waiter.signal })
      .catch((e) => e)
    await eventually(() => stats().waiting === 1)
    waiter.abort()
    // over a socket the client is simply gone; in-process the SDK still sees the 499 answer
    const gone = await queued
    if (!(gone instanceof OpenAI.APIUserAbortError)) expect(gone).toMatchObject({ status: 499, code: 'client_closed_request' })
    await eventually(() => stats().waiting === 0)
    controller.abort()
    await eventually(() => stats().idleSequences === 1)
  })
})

describe('llama-cpp: bad input', () => {
  it('answers 400 context_length_exceeded for a prompt longer than the context', async () => {
    const error = await client.completions
      .create({ model: MODEL, prompt: 'Once upon a time '.repeat(80), max_tokens: 1 })
      .catch((e) => e)
    expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'prompt' })
    expect(error.message).toMatch(
      /maximum context length is 256 tokens\. However, your messages resulted in \d+ tokens/,
    )
  })

  it('says clearly when a GGUF file is corrupt or truncated, and keeps serving', async () => {
    const ask = (model: string) =>
      client.completions.create({ model, prompt: 'x', max_tokens: 1 }).catch((e) => e)
    const corrupt = await ask('corrupt')
    expect(corrupt).toMatchObject({ status: 500, code: 'model_load_failed' })
    expect(corrupt.message).toContain('Invalid GGUF magic')
    expect(corrupt.headers.get('x-should-retry')).toBe('false')
    const truncated = await ask('truncated')
    expect(truncated).toMatchObject({ status: 500, code: 'model_load_failed' })
    expect(truncated.message).toMatch(
      /truncated\.gguf.*(corrupted or incomplete|not within the file bounds)/,
    )
    expect((await ask(MODEL)).choices[0].text).toBeTypeOf('string')
  })

  it('serves a file dropped into the models directory without a restart', async () => {
    fs.symlinkSync(requireStories(), path.join(dir.dir, 'dropped-in.gguf'))
    const answer = await client.completions.create({
      model: 'dropped-in',
      prompt: 'Once upon a time',
      max_tokens: 3,
      temperature: 0,
    })
    expect(answer.choices[0].text).toBe(', there was')
    expect((await client.models.list()).data.map((m) => m.id)).toContain('dropped-in')
  })
})

describe('llama-cpp: memory', () => {
  const aliases = (budget: number, idleUnloadMs = 600_000) =>
    createTestApp({
      llama: {
        modelsDir: path.join(dir.dir, 'none'),
        memoryBudgetBytes: budget,
        idleUnloadMs,
        defaults: { threads: 1, contextSize: 256, sequences: 1 },
      },
      models: ['a', 'b'].map((id) => ({
        id,
        provider: 'llama-cpp' as const,
        options: { path: requireStories() },
      })),
    })
  const once = (app: TestApp, model: string) =>
    app.client().completions.create({ model, prompt: 'Once', max_tokens: 1 })

  it('refuses a model larger than the memory budget, clearly', async () => {
    const app = await aliases(1_000_000)
    try {
      const error = await once(app, 'a').catch((e) => e)
      expect(error).toMatchObject({ status: 500, code: 'model_too_large' })
      expect(error.message).toMatch(
        /needs about \d+ MiB of memory.*more than the memory budget of 1 MiB/,
      )
    } finally {
      await app.close()
    }
  })

  it('unloads the least recently used model to make room, and idle models after idleUnloadMs', async () => {
    const bytes = stats().bytes
    const app = await aliases(Math.floor(bytes * 1.5), 300)
    try {
      const loaded = () =>
        llamaProvider(app, 'a')
          .stats()
          .map((s) => s.id)
      await once(app, 'a')
      expect(loaded()).toEqual(['a'])
      await once(app, 'b')
      expect(loaded()).toEqual(['b'])
      await eventually(() => loaded().length === 0, 3000)
    } finally {
      await app.close()
    }
  })
})
