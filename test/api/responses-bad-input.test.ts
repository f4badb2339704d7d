import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

async function refused(params: Record<string, unknown>) {
  const error = await client.responses.create(params as any).catch((e) => e)
  expect(error).toBeInstanceOf(OpenAI.APIError)
  return { status: error.status as number, error: error.error as Record<string, unknown> }
}

async function responseCount(): Promise<number> {
  // a stored response is written just after its answer: count once the writes in flight are done
  await t.ctx.services.responses.store.drain()
  const row = await t.ctx.storage.db.selectFrom('responses').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

describe('bad input to POST /v1/responses', () => {
  it('an unknown previous_response_id', async () => {
    expect(await refused({ model: 'test-echo', input: 'x', previous_response_id: 'resp_nope' })).toEqual({
      status: 400,
      error: { message: "Previous response with id 'resp_nope' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' },
    })
  })

  it('an item of a type that does not exist', async () => {
    const { status, error } = await refused({ model: 'test-echo', input: [{ type: 'telepathy', text: 'x' }] })
    expect(status).toBe(400)
    expect(error).toMatchObject({ param: 'input[0].type', code: 'invalid_value' })
    expect(error.message).toMatch(/^Invalid value: 'telepathy'\. Supported values are: /)
  })

  it('a content part of the wrong kind for its role', async () => {
    expect(await refused({ model: 'test-echo', input: [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }] })).toEqual({
      status: 400,
      error: { message: "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and 'input_file'.", type: 'invalid_request_error', param: 'input[0].content[0]', code: 'invalid_value' },
    })
  })

  it('an unknown parameter, nested or not', async () => {
    expect((await refused({ model: 'test-echo', input: 'x', frobnicate: 1 })).error).toMatchObject({ message: "Unknown parameter: 'frobnicate'.", code: 'unknown_parameter' })
    expect((await refused({ model: 'test-echo', input: [{ role: 'user', content: 'x', cache: 1 }] })).error).toMatchObject({ param: 'input[0].cache', code: 'unknown_parameter' })
  })

  it('a function call output for a call that was never made', async () => {
    expect(await refused({ model: 'test-echo', input: [{ type: 'function_call_output', call_id: 'call_ghost', output: '1' }] })).toEqual({
      status: 400,
      error: { message: 'No tool call found for function call output with call_id call_ghost.', type: 'invalid_request_error', param: 'input', code: null },
    })
  })

  it('a function call without its output', async () => {
    const input = [
      { role: 'user', content: 'x' },
      { type: 'function_call', call_id: 'call_open', name: 'f', arguments: '{}' },
    ]
    expect((await refused({ model: 'test-echo', input })).error).toMatchObject({ message: 'No tool output found for function call call_open.', param: 'input' })
  })

  it('a json_schema format that is not one', async () => {
    expect((await refused({ model: 'test-scripted', input: 'x', text: { format: { type: 'json_schema', schema: { type: 'object' } } } })).error).toMatchObject({
      message: "Missing required parameter: 'text.format.name'.",
      param: 'text.format.name',
    })
    expect((await refused({ model: 'test-scripted', input: 'x', text: { format: { type: 'json_schema', name: 'x', schema: 'object' } } })).error).toMatchObject({
      param: 'text.format.schema',
    })
  })

  it('json_object without the word in the input', async () => {
    expect((await refused({ model: 'test-scripted', input: 'hello', text: { format: { type: 'json_object' } } })).error).toEqual({
      message: "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.",
      type: 'invalid_request_error',
      param: 'input',
      code: 'invalid_value',
    })
  })

  it('a tool Plinth cannot run, named', async () => {
    const { status, error } = await refused({ model: 'test-scripted', input: 'x', tools: [{ type: 'web_search_preview' }] })
    expect(status).toBe(400)
    expect(error).toMatchObject({ param: 'tools[0].type', code: 'unsupported_tool' })
    expect(error.message).toMatch(/^Tool 'web_search_preview' is not supported by this server/)
  })

  it('a parameter the model cannot honour, in the Responses name', async () => {
    expect((await refused({ model: 'test-echo', input: 'json', text: { format: { type: 'json_object' } } })).error).toMatchObject({
      message: "Unsupported parameter: 'text.format' is not supported with this model.",
      param: 'text.format',
    })
    expect((await refused({ model: 'test-echo', input: 'x', max_output_tokens: 20000 })).error).toMatchObject({
      message: 'max_output_tokens is too large: 20000. This model supports at most 16384 completion tokens, whereas you provided 20000.',
      param: 'max_output_tokens',
    })
    expect((await refused({ model: 'test-echo', input: 'x', max_output_tokens: 10 })).error).toMatchObject({ param: 'max_output_tokens' })
  })

  it('an unknown item_reference, and a known one', async () => {
    expect(await refused({ model: 'test-echo', input: [{ type: 'item_reference', id: 'msg_nope' }] })).toEqual({
      status: 404,
      error: { message: "Item with id 'msg_nope' not found.", type: 'invalid_request_error', param: 'input[0].id', code: null },
    })
    const first = await client.responses.create({ model: 'test-echo', input: 'referenced words' })
    const [item] = (await client.responses.inputItems.list(first.id)).data
    const again = await client.responses.create({ model: 'test-echo', input: [{ type: 'item_reference', id: item.id }] })
    expect(again.output_text).toBe('referenced words')
  })

  it('stores nothing when refused', async () => {
    const before = await responseCount()
    await refused({ model: 'test-echo', input: [{ type: 'function_call_output', call_id: 'c', output: '1' }] })
    await refused({ model: 'test-scripted', input: 'x', tools: [{ type: 'web_search_preview' }] })
    await refused({ model: 'test-scripted', input: 'fail with 429' })
    expect(await responseCount()).toBe(before)
  })
})

describe('truncation', () => {
  // test-echo's context is 128,000 tokens: "word " is one token
  const long = 'word '.repeat(70_000)

  it('disabled (the default): the context error in the Responses wording', async () => {
    const input = [
      { role: 'user', content: long },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: long },
    ]
    expect(await refused({ model: 'test-echo', input })).toEqual({
      status: 400,
      error: { message: 'Your input exceeds the context window of this model. Please adjust your input and try again.', type: 'invalid_request_error', param: 'input', code: 'context_length_exceeded' },
    })
  })

  it('auto: the oldest items go until the rest fits', async () => {
    const input = [
      { role: 'user' as const, content: long },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: long + 'end' },
    ]
    const response = await client.responses.create({ model: 'test-echo', input, truncation: 'auto', instructions: 'kept', max_output_tokens: 16 })
    expect(response.usage!.input_tokens).toBeLessThan(128_000)
    expect(response.usage!.input_tokens).toBeGreaterThan(70_000)
  })
})
