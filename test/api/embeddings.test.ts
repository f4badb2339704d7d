import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeTokens } from '../../src/providers/tokenizer.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0))
}

async function raw(body: unknown) {
  const response = await t.fetch('http://plinth.test/v1/embeddings', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe('embeddings', () => {
  it('embeds a string as a 1536-dimension unit vector', async () => {
    const result = await client.embeddings.create({
      model: 'test-embed',
      input: 'The food was delicious.',
    })
    expect(result.object).toBe('list')
    expect(result.model).toBe('test-embed')
    expect(result.data).toHaveLength(1)
    const [item] = result.data
    expect(item.object).toBe('embedding')
    expect(item.index).toBe(0)
    expect(item.embedding).toHaveLength(1536)
    expect(norm(item.embedding)).toBeCloseTo(1, 5)
    expect(result.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 })
  })

  it('embeds an array of strings and token arrays, one item per input in order', async () => {
    const texts = ['first', 'second text', 'third']
    const strings = await client.embeddings.create({
      model: 'test-embed',
      input: texts,
      encoding_format: 'float',
    })
    expect(strings.data.map((d) => d.index)).toEqual([0, 1, 2])
    const tokens = await client.embeddings.create({
      model: 'test-embed',
      input: texts.map((text) => encodeTokens(text)),
      encoding_format: 'float',
    })
    // a token array is the same input as its text
    expect(tokens.data.map((d) => d.embedding)).toEqual(strings.data.map((d) => d.embedding))
    const single = await client.embeddings.create({
      model: 'test-embed',
      input: encodeTokens('second text'),
      encoding_format: 'float',
    })
    expect(single.data).toHaveLength(1)
    expect(single.data[0].embedding).toEqual(strings.data[1].embedding)
    expect(single.usage.prompt_tokens).toBe(encodeTokens('second text').length)
  })

  it('base64 (the SDK default) and float give the same numbers', async () => {
    const input = 'encoding formats agree'
    const viaSdkDefault = await client.embeddings.create({ model: 'test-embed', input })
    const asFloat = await client.embeddings.create({
      model: 'test-embed',
      input,
      encoding_format: 'float',
    })
    const float32 = Array.from(new Float32Array(asFloat.data[0].embedding))
    expect(viaSdkDefault.data[0].embedding).toEqual(float32)

    // on the wire, base64 is little-endian float32
    const { status, body } = await raw({ model: 'test-embed', input, encoding_format: 'base64' })
    expect(status).toBe(200)
    expect(typeof body.data[0].embedding).toBe('string')
    const bytes = Buffer.from(body.data[0].embedding, 'base64')
    expect(bytes.byteLength).toBe(1536 * 4)
    const decoded = Array.from({ length: 1536 }, (_, i) => bytes.readFloatLE(i * 4))
    expect(decoded).toEqual(float32)
  })

  it('dimensions shortens the vector and keeps it a unit vector', async () => {
    for (const dimensions of [1, 8, 256, 1536]) {
      const result = await client.embeddings.create({
        model: 'test-embed',
        input: 'shorter please',
        dimensions,
        encoding_format: 'float',
      })
      expect(result.data[0].embedding).toHaveLength(dimensions)
      expect(norm(result.data[0].embedding)).toBeCloseTo(1, 5)
    }
  })

  it('is deterministic: same text, same vector; other text, another vector', async () => {
    const a = await client.embeddings.create({
      model: 'test-embed',
      input: ['same', 'same', 'other'],
      encoding_format: 'float',
    })
    const b = await client.embeddings.create({
      model: 'test-embed',
      input: 'same',
      encoding_format: 'float',
    })
    expect(a.data[0].embedding).toEqual(a.data[1].embedding)
    expect(a.data[0].embedding).toEqual(b.data[0].embedding)
    expect(a.data[2].embedding).not.toEqual(a.data[0].embedding)
  })

  it('records usage', async () => {
    await t.ctx.services.usage.settled()
    await t.ctx.storage.db.deleteFrom('usage_records').execute()
    await client.embeddings.create({ model: 'test-embed', input: ['one two', 'three'] })
    // answers do not wait for their rows; readers wait for settled()
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db.selectFrom('usage_records').selectAll().execute()
    expect(rows.map((r) => [r.operation, r.model, r.input_tokens, r.output_tokens])).toEqual([
      ['embeddings', 'test-embed', 3, 0],
    ])
  })

  it('refuses empty input with a 400', async () => {
    const empty = await client.embeddings.create({ model: 'test-embed', input: '' }).catch((e) => e)
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError)
    // OpenAI's current words, naming the item
    const invalid = (param: string) => ({
      message: `Invalid '${param}': input cannot be an empty string.`,
      type: 'invalid_request_error',
      param,
      code: null,
    })
    expect(empty.error).toEqual(invalid('input'))
    const inArray = await client.embeddings
      .create({ model: 'test-embed', input: ['ok', ''] })
      .catch((e) => e)
    expect(inArray.status).toBe(400)
    expect(inArray.error).toEqual(invalid('input[1]'))
    for (const input of [[], [[]]]) {
      const { status, body } = await raw({ model: 'test-embed', input })
      expect(status, JSON.stringify(input)).toBe(400)
      expect(body.error.type).toBe('invalid_request_error')
    }
  })

  it('takes 2048 inputs and refuses 2049 in OpenAI\'s words', async () => {
    const ok = await raw({ model: 'test-embed', input: Array(2048).fill([15339]), encoding_format: 'float' })
    expect(ok.status).toBe(200)
    expect(ok.body.data).toHaveLength(2048)
    for (const input of [Array(2049).fill('a'), Array(2049).fill([15339])]) {
      const { status, body } = await raw({ model: 'test-embed', input })
      expect(status).toBe(400)
      expect(body.error).toEqual({
        message: "Invalid 'input': array length must be 2048 or less.",
        type: 'invalid_request_error',
        param: 'input',
        code: 'invalid_value',
      })
    }
  })

  it('refuses dimensions above 1536 and below 1', async () => {
    const above = await client.embeddings
      .create({ model: 'test-embed', input: 'x', dimensions: 1537 })
      .catch((e) => e)
    expect(above).toBeInstanceOf(OpenAI.BadRequestError)
    expect(above.error).toEqual({
      message:
        "Invalid 'dimensions': integer above maximum value. Expected a value <= 1536, but got 1537 instead.",
      type: 'invalid_request_error',
      param: 'dimensions',
      code: 'integer_above_max_value',
    })
    const zero = await client.embeddings
      .create({ model: 'test-embed', input: 'x', dimensions: 0 })
      .catch((e) => e)
    expect(zero.status).toBe(400)
    expect(zero.error.code).toBe('integer_below_min_value')
  })

  it('refuses bad inputs, models and formats with 4xx', async () => {
    const chatModel = await client.embeddings
      .create({ model: 'test-echo', input: 'x' })
      .catch((e) => e)
    expect(chatModel.status).toBe(400)
    expect(chatModel.error.param).toBe('model')
    const unknown = await client.embeddings.create({ model: 'nope', input: 'x' }).catch((e) => e)
    expect(unknown.status).toBe(404)
    expect(unknown.error.code).toBe('model_not_found')
    const format = await raw({ model: 'test-embed', input: 'x', encoding_format: 'int8' })
    expect(format.body.error).toMatchObject({
      message: "Invalid value: 'int8'. Supported values are: 'float' and 'base64'.",
      param: 'encoding_format',
      code: 'invalid_value',
    })
    const badToken = await raw({ model: 'test-embed', input: [[1, 2, 987654321]] })
    expect(badToken.status).toBe(400)
    const missing = await raw({ model: 'test-embed' })
    expect(missing.body.error).toMatchObject({
      message: "Missing required parameter: 'input'.",
      param: 'input',
    })
  })
})
