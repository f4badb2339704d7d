import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAKE_TEXT, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { modelsDir } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The Responses API on the providers beneath chat: an upstream that serves only chat
// completions (translated both ways) and the in-process llama.cpp model.
const LLAMA = 'stories260K'
const UPSTREAM_KEY = 'sk-upstream-fake-responses'

let fake: FakeUpstream
let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

beforeAll(async () => {
  fake = await startFakeUpstream()
  process.env.FAKE_UPSTREAM_KEY = UPSTREAM_KEY
  dir = modelsDir([`${LLAMA}.gguf`])
  t = await createTestApp({
    upstreams: [{ id: 'fake', baseURL: fake.baseURL, apiKeyEnv: 'FAKE_UPSTREAM_KEY' }],
    models: [{ id: 'gpt-fake', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'fake-model' }],
    llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 1024, sequences: 2 } },
  })
  client = t.client()
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
  dir?.remove()
})

const lookup = {
  type: 'function' as const,
  name: 'lookup',
  parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
  strict: false,
}

describe('an upstream that serves only chat completions', () => {
  it('is called at /chat/completions with the conversation as messages', async () => {
    fake.reset()
    const first = await client.responses.create({ model: 'gpt-fake', input: 'Say hello.', instructions: 'Be kind.', max_output_tokens: 50, temperature: 0.2 })
    expect(first.output_text).toBe(FAKE_TEXT)
    const sent = fake.last()
    expect(sent.path).toBe('/v1/chat/completions')
    expect(sent.body).toMatchObject({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be kind.' },
        { role: 'user', content: 'Say hello.' },
      ],
      max_completion_tokens: 50,
      temperature: 0.2,
    })
    await client.responses.create({ model: 'gpt-fake', input: 'Again.', previous_response_id: first.id })
    expect(fake.last().body.messages).toEqual([
      { role: 'user', content: 'Say hello.' },
      { role: 'assistant', content: FAKE_TEXT },
      { role: 'user', content: 'Again.' },
    ])
  })

  it('streams, with the upstream usage in the response', async () => {
    fake.reset()
    fake.set({ usage: { prompt_tokens: 11, completion_tokens: 5, cached_tokens: 4 } })
    const stream = client.responses.stream({ model: 'gpt-fake', input: 'Say hello.' })
    const final = await stream.finalResponse()
    expect(final.output_text).toBe(FAKE_TEXT)
    expect(final.usage).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 16,
    })
    expect(fake.last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
  })

  it('turns tool calls into function_call items, and outputs into tool messages', async () => {
    fake.reset()
    fake.once({ toolCalls: [{ id: 'call_up1', name: 'lookup', arguments: '{"q":"x"}' }] })
    const first = await client.responses.create({ model: 'gpt-fake', input: 'Find x.', tools: [lookup], tool_choice: 'required', parallel_tool_calls: false })
    expect(fake.last().body).toMatchObject({
      tools: [{ type: 'function', function: { name: 'lookup', parameters: lookup.parameters, strict: false } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
    })
    expect(first.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'call_up1', name: 'lookup', arguments: '{"q":"x"}' })])
    await client.responses.create({
      model: 'gpt-fake',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_up1', output: 'found' }],
      tools: [lookup],
    })
    expect(fake.last().body.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_up1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'call_up1', content: 'found' },
    ])
  })

  it('passes text.format json_schema as response_format', async () => {
    fake.reset()
    fake.once({ text: '{"a":1}' })
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false }
    const response = await client.responses.create({ model: 'gpt-fake', input: 'json please', text: { format: { type: 'json_schema', name: 'thing', schema, strict: true } } })
    expect(fake.last().body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } })
    expect(response.output_text).toBe('{"a":1}')
  })

  it("asks for logprobs with the include value, and gives the upstream's per token, streamed or not", async () => {
    fake.reset()
    const include = ['message.output_text.logprobs' as const]
    const response = await client.responses.create({ model: 'gpt-fake', input: 'odds?', include, top_logprobs: 4 })
    expect(fake.last().body).toMatchObject({ logprobs: true, top_logprobs: 4 })
    const part = (response.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText
    expect(part.logprobs!.map((entry) => entry.token).join('')).toBe(FAKE_TEXT)
    expect(part.logprobs![0]).toEqual({ token: part.logprobs![0].token, logprob: -0.5, bytes: [...Buffer.from(part.logprobs![0].token)], top_logprobs: [{ token: part.logprobs![0].token, logprob: -0.5, bytes: [...Buffer.from(part.logprobs![0].token)] }] })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await client.responses.create({ model: 'gpt-fake', input: 'odds?', include, stream: true })) events.push(event)
    expect(fake.last().body).toMatchObject({ logprobs: true, stream: true })
    const deltas = events.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === 'response.output_text.delta')
    expect(deltas.map((delta) => delta.logprobs.map((entry) => entry.token).join(''))).toEqual(deltas.map((delta) => delta.delta))
    expect(deltas[0].logprobs[0]).toMatchObject({ logprob: -0.5, top_logprobs: [{ token: deltas[0].logprobs[0].token, logprob: -0.5 }] })
    // without the include value, the upstream is not asked
    await client.responses.create({ model: 'gpt-fake', input: 'odds?', top_logprobs: 4 })
    expect(fake.last().body).not.toHaveProperty('logprobs')
    expect(fake.last().body).not.toHaveProperty('top_logprobs')
  })

  it('keeps an upstream 4xx as it is', async () => {
    fake.reset()
    fake.once({ error: { status: 400, body: { error: { message: 'Upstream says no', type: 'invalid_request_error', param: null, code: null } } } })
    const error = await client.responses.create({ model: 'gpt-fake', input: 'x' }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error.message).toBe('Upstream says no')
  })
})

describe('llama.cpp (stories260K)', () => {
  it('answers, streamed and not, and continues a stored conversation', async () => {
    const first = await client.responses.create({ model: LLAMA, input: 'Once upon a time', max_output_tokens: 16, temperature: 0 })
    expect(['completed', 'incomplete']).toContain(first.status)
    expect(first.output_text.length).toBeGreaterThan(0)
    expect(first.usage!.output_tokens).toBeGreaterThan(0)
    const stream = client.responses.stream({ model: LLAMA, input: 'The cat', previous_response_id: first.id, max_output_tokens: 16, temperature: 0 })
    const final = await stream.finalResponse()
    expect(final.output_text.length).toBeGreaterThan(0)
    expect(final.previous_response_id).toBe(first.id)
  })

  it('calls a function when told to (grammar)', async () => {
    const response = await client.responses.create({ model: LLAMA, input: 'Find the cat.', tools: [lookup], tool_choice: { type: 'function', name: 'lookup' }, max_output_tokens: 64, temperature: 0 })
    const call = response.output.find((item) => item.type === 'function_call') as any
    expect(call).toMatchObject({ name: 'lookup', status: 'completed' })
    expect(typeof JSON.parse(call.arguments).q).toBe('string')
  })

  it('runs file_search inside the response when told to (grammar), then answers', async () => {
    t.ctx.jobs.start()
    const store = await client.vectorStores.create({ name: 'cats' })
    const file = await toFile(Buffer.from('The cat sleeps under the old oak tree in the garden.'), 'cats.txt')
    await client.vectorStores.fileBatches.uploadAndPoll(store.id, { files: [file] }, { pollIntervalMs: 20 })
    const response = await client.responses.create({
      model: LLAMA,
      input: 'Where does the cat sleep?',
      tools: [{ type: 'file_search', vector_store_ids: [store.id] }],
      tool_choice: { type: 'file_search' },
      include: ['file_search_call.results'],
      max_output_tokens: 32,
      temperature: 0,
    })
    const [call, ...rest] = response.output
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed' })
    expect((call as OpenAI.Responses.ResponseFileSearchToolCall).queries).toHaveLength(1)
    expect(Array.isArray((call as OpenAI.Responses.ResponseFileSearchToolCall).results)).toBe(true)
    // the forced call was made: the model then answered (or searched again, freely)
    expect(rest.at(-1)?.type).toBe('message')
  })

  it('gives the log probabilities of its tokens, with top_logprobs alternatives', async () => {
    const response = await client.responses.create({ model: LLAMA, input: 'Once upon a time', max_output_tokens: 16, temperature: 0, include: ['message.output_text.logprobs'], top_logprobs: 3 })
    const part = (response.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText
    expect(part.logprobs!.length).toBeGreaterThan(0)
    expect(part.logprobs!.map((entry) => entry.token).join('')).toBe(part.text)
    expect(part.logprobs!.every((entry) => entry.logprob <= 0 && entry.top_logprobs.length === 3 && Array.isArray(entry.bytes))).toBe(true)
  })

  it('refuses reasoning', async () => {
    const error = await client.responses.create({ model: LLAMA, input: 'x', reasoning: { effort: 'low' } }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toMatchObject({ param: 'reasoning.effort', code: 'unsupported_parameter' })
  })
})
