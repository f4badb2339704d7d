import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// One call per served operation, so every one of them has its responses checked against the
// spec (by the validating fetch) even before its own e2e tests cover every corner.

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

const messages = [{ role: 'user' as const, content: 'Conformance check.' }]

describe('responses of every served operation match the spec', () => {
  it('models: list, retrieve, delete (refused), unknown model', async () => {
    const client = t.client()
    const list = await client.models.list()
    expect(list.data.length).toBeGreaterThan(0)
    await client.models.retrieve('test-echo')
    await expect(client.models.delete('test-echo')).rejects.toMatchObject({ status: 403 })
    await expect(client.models.retrieve('no-such-model')).rejects.toMatchObject({ status: 404 })
  })

  it('embeddings: float and base64', async () => {
    const client = t.client()
    await client.embeddings.create({ model: 'test-embed', input: ['one', 'two'] })
    await client.embeddings.create({
      model: 'test-embed',
      input: 'three',
      encoding_format: 'base64',
    })
  })

  it('completions: plain, streamed, with logprobs and usage', async () => {
    const client = t.client()
    await client.completions.create({
      model: 'test-echo',
      prompt: 'Say this',
      logprobs: 2,
    })
    await client.completions.create({ model: 'test-echo', prompt: 'Say this', echo: true })
    const stream = await client.completions.create({
      model: 'test-echo',
      prompt: 'Say this',
      stream: true,
      stream_options: { include_usage: true },
    })
    for await (const _ of stream);
  })

  it('chat completions: plain, streamed, tool call, logprobs, an error mid-stream', async () => {
    const client = t.client()
    await client.chat.completions.create({
      model: 'test-echo',
      messages,
      logprobs: true,
      top_logprobs: 2,
      n: 2,
    })
    const stream = await client.chat.completions.create({
      model: 'test-echo',
      messages,
      stream: true,
      logprobs: true,
      stream_options: { include_usage: true },
    })
    for await (const _ of stream);
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', parameters: { type: 'object' } },
      },
    ]
    const weather = [{ role: 'user' as const, content: 'what is the weather in Paris?' }]
    await client.chat.completions.create({ model: 'test-scripted', messages: weather, tools })
    for await (const _ of await client.chat.completions.create({
      model: 'test-scripted',
      messages: weather,
      tools,
      stream: true,
    }));
    const failing = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'fail midway' }],
      stream: true,
    })
    await expect(async () => {
      for await (const _ of failing);
    }).rejects.toThrow()
  })

  it('stored chat completions: retrieve, list, update, messages, delete', async () => {
    const client = t.client()
    const empty = await client.chat.completions.list()
    expect(empty.data).toEqual([])
    const created = await client.chat.completions.create({
      model: 'test-echo',
      messages,
      store: true,
      metadata: { k: 'v' },
    })
    await client.chat.completions.retrieve(created.id)
    await client.chat.completions.list({ limit: 1 })
    await client.chat.completions.update(created.id, { metadata: { k: 'w' } })
    await client.chat.completions.messages.list(created.id)
    await client.chat.completions.delete(created.id)
    await expect(client.chat.completions.retrieve(created.id)).rejects.toMatchObject({
      status: 404,
    })
  })

  it('files and uploads: create, list, retrieve, content, delete; upload, part, complete, cancel', async () => {
    const client = t.client()
    const file = await client.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), 'conformance.jsonl'),
      purpose: 'batch',
    })
    await client.files.list({ purpose: 'batch', limit: 1 })
    await client.files.retrieve(file.id)
    expect(await (await client.files.content(file.id)).text()).toBe('{"a":1}\n')
    await client.files.delete(file.id)
    const upload = await client.uploads.create({
      bytes: 3,
      filename: 'conformance.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    })
    const part = await client.uploads.parts.create(upload.id, {
      data: await toFile(Buffer.from('{}\n'), 'part'),
    })
    await client.uploads.complete(upload.id, { part_ids: [part.id] })
    const cancelled = await client.uploads.create({
      bytes: 3,
      filename: 'cancelled.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    })
    await client.uploads.cancel(cancelled.id)
  })
})
