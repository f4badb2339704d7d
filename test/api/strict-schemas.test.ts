import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STRICT_LIMITS } from '../../src/schemas/strict-schema.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

type Schema = Record<string, unknown>
const strictObject = (properties: Record<string, Schema>): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
})

async function chatError(schema: Schema, name = 'answer') {
  const error = await client.chat.completions
    .create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name, strict: true, schema } },
    })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(OpenAI.BadRequestError)
  const e = error as InstanceType<typeof OpenAI.BadRequestError>
  expect(e.status).toBe(400)
  expect(e.type).toBe('invalid_request_error')
  expect(e.param).toBe('response_format')
  expect(e.code).toBeNull()
  return e.error as { message: string }
}

/** Every case: the schema, and OpenAI's message for it (the name is `answer`). */
const refused: [string, Schema, string][] = [
  [
    'a property not in required',
    { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } }, required: ['a'], additionalProperties: false },
    "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.",
  ],
  [
    'required left out',
    { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
    "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'a'.",
  ],
  [
    'an extra required key',
    { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'z'], additionalProperties: false },
    "In context=(), Extra required key 'z' supplied.",
  ],
  [
    'additionalProperties missing at the root',
    { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    "In context=(), 'additionalProperties' is required to be supplied and to be false.",
  ],
  [
    'additionalProperties true in a nested object',
    strictObject({ items: { type: 'array', items: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: true } } }),
    "In context=('properties', 'items', 'items'), 'additionalProperties' is required to be supplied and to be false.",
  ],
  [
    'additionalProperties as a schema',
    { type: 'object', properties: {}, required: [], additionalProperties: { type: 'string' } },
    "In context=(), 'additionalProperties' is required to be supplied and to be false.",
  ],
  ['allOf at the root', { ...strictObject({ a: { type: 'string' } }), allOf: [{ type: 'object' }] }, "In context=(), 'allOf' is not permitted."],
  ['not', strictObject({ a: { type: 'string', not: { const: 'x' } } }), "In context=('properties', 'a'), 'not' is not permitted."],
  ['oneOf', strictObject({ a: { oneOf: [{ type: 'string' }, { type: 'number' }] } }), "In context=('properties', 'a'), 'oneOf' is not permitted."],
  ['if/then/else', { ...strictObject({ a: { type: 'string' } }), if: { properties: {} }, then: {} }, "In context=(), 'if' is not permitted."],
  ['dependentRequired', { ...strictObject({ a: { type: 'string' } }), dependentRequired: { a: [] } }, "In context=(), 'dependentRequired' is not permitted."],
  ['patternProperties', strictObject({ m: { ...strictObject({}), patternProperties: { '^x': { type: 'string' } } } }), "In context=('properties', 'm'), 'patternProperties' is not permitted."],
  ['unevaluatedProperties', { ...strictObject({ a: { type: 'string' } }), unevaluatedProperties: false }, "In context=(), 'unevaluatedProperties' is not permitted."],
  ['propertyNames', { ...strictObject({ a: { type: 'string' } }), propertyNames: { pattern: '^a' } }, "In context=(), 'propertyNames' is not permitted."],
  ['minProperties', { ...strictObject({ a: { type: 'string' } }), minProperties: 1 }, "In context=(), 'minProperties' is not permitted."],
  ['uniqueItems', strictObject({ l: { type: 'array', items: { type: 'string' }, uniqueItems: true } }), "In context=('properties', 'l'), 'uniqueItems' is not permitted."],
  ['contains', strictObject({ l: { type: 'array', items: { type: 'string' }, contains: { const: 'x' } } }), "In context=('properties', 'l'), 'contains' is not permitted."],
  ['a keyword inside an anyOf branch', strictObject({ a: { anyOf: [{ type: 'null' }, { type: 'string', not: {} }] } }), "In context=('properties', 'a', 'anyOf', 1), 'not' is not permitted."],
  ['a root that is an array', { type: 'array', items: { type: 'string' } }, `schema must be a JSON Schema of 'type: "object"', got 'type: "array"'.`],
  ['a root without type', { anyOf: [strictObject({ a: { type: 'string' } })] }, "schema must have a 'type' key."],
  [
    'a root anyOf',
    { type: 'object', anyOf: [strictObject({ a: { type: 'string' } }), strictObject({ b: { type: 'string' } })] },
    "schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level. Found 'anyOf'.",
  ],
  ['an array without items', strictObject({ l: { type: 'array' } }), "In context=('properties', 'l'), array schema missing items."],
  ['a property without a type', strictObject({ a: {} }), "In context=('properties', 'a'), schema must have a 'type' key."],
  [
    'a $ref outside the top-level definitions',
    strictObject({ a: strictObject({ b: { type: 'string' } }), c: { $ref: '#/properties/a' } }),
    "In context=('properties', 'c'), reference can only point to definitions defined at the top level of the schema.",
  ],
  [
    'a $ref to a definition that is not there',
    { ...strictObject({ a: { $ref: '#/$defs/missing' } }), $defs: { present: { type: 'string' } } },
    "In context=('properties', 'a'), reference '#/$defs/missing' does not point to a definition in the schema.",
  ],
  [
    'a bad definition',
    { ...strictObject({ a: { $ref: '#/$defs/node' } }), $defs: { node: { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] } } },
    "In context=('$defs', 'node'), 'additionalProperties' is required to be supplied and to be false.",
  ],
]

describe('strict response_format schemas OpenAI refuses', () => {
  it.each(refused)('%s', async (_case, schema, message) => {
    expect((await chatError(schema)).message).toBe(`Invalid schema for response_format 'answer': ${message}`)
  })
})

/** A chain of `depth` nested objects: the root is level 1, each property one more. */
function nested(depth: number): Schema {
  let schema: Schema = strictObject({ leaf: { type: 'string' } })
  for (let i = 2; i < depth; i++) schema = strictObject({ next: schema })
  return schema
}

describe("OpenAI's limits on a strict schema", () => {
  it(`allows ${STRICT_LIMITS.nesting} levels of nesting and refuses more`, async () => {
    await expect(strictCompletion(nested(STRICT_LIMITS.nesting))).resolves.toBeDefined()
    expect((await chatError(nested(STRICT_LIMITS.nesting + 1))).message).toBe(
      `Invalid schema for response_format 'answer': ${STRICT_LIMITS.nesting + 1} levels of nesting exceeds limit of ${STRICT_LIMITS.nesting}.`,
    )
  })

  it(`allows ${STRICT_LIMITS.properties} properties in all and refuses more`, async () => {
    const wide = (n: number) => {
      // split over sub-objects: one object of 5000 keys would be an unusual but valid schema too
      const groups: Record<string, Schema> = {}
      for (let g = 0; g * 100 < n; g++) {
        const props: Record<string, Schema> = {}
        for (let i = g * 100; i < Math.min(n, (g + 1) * 100); i++) props[`p${i}`] = { type: 'boolean' }
        groups[`g${g}`] = strictObject(props)
      }
      return strictObject(groups)
    }
    // 50 groups + 4950 leaves = 5000 properties
    await expect(strictCompletion(wide(STRICT_LIMITS.properties - 50))).resolves.toBeDefined()
    expect((await chatError(wide(STRICT_LIMITS.properties))).message).toBe(
      `Invalid schema for response_format 'answer': ${STRICT_LIMITS.properties + 50} parameters exceeds limit of ${STRICT_LIMITS.properties}.`,
    )
  })

  it(`refuses more than ${STRICT_LIMITS.enumValues} enum values in all`, async () => {
    const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => `v${from + i}`)
    const schema = strictObject({ a: { type: 'string', enum: values(0, 600) }, b: { type: 'string', enum: values(600, 600) } })
    expect((await chatError(schema)).message).toBe(
      `Invalid schema for response_format 'answer': Expected at most ${STRICT_LIMITS.enumValues} enum values in total within a single schema when using structured outputs, but received 1200. Consider reducing the number of enums, or use 'strict: false' to opt out of structured outputs.`,
    )
  })

  it(`refuses one enum of more than ${STRICT_LIMITS.largeEnum} values over ${STRICT_LIMITS.largeEnumLength} characters`, async () => {
    const long = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(57)}`) // 300 × 60 = 18,000
    const short = long.map((v) => v.slice(0, 40)) // 300 × 40 = 12,000
    await expect(strictCompletion(strictObject({ a: { type: 'string', enum: short } }))).resolves.toBeDefined()
    expect((await chatError(strictObject({ a: { type: 'string', enum: long } }))).message).toBe(
      `Invalid schema for response_format 'answer': Expected at most ${STRICT_LIMITS.largeEnumLength} total characters across enum values when there are more than ${STRICT_LIMITS.largeEnum} enum values, but received 18000. Consider reducing the number of enums, or use 'strict: false' to opt out of structured outputs.`,
    )
  })

  it(`refuses more than ${STRICT_LIMITS.stringLength} characters of names and values`, async () => {
    // 100 properties named with 1,250 characters each = 125,000
    const props: Record<string, Schema> = {}
    for (let i = 0; i < 100; i++) props[`${i}`.padEnd(1250, 'n')] = { type: 'string' }
    expect((await chatError(strictObject(props))).message).toMatch(
      new RegExp(`^Invalid schema for response_format 'answer': Expected at most ${STRICT_LIMITS.stringLength} total characters .* but received 125000\\.`),
    )
  })
})

function strictCompletion(schema: Schema) {
  return client.chat.completions.create({
    model: 'test-scripted',
    messages: [{ role: 'user', content: 'hi' }],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } },
  })
}

describe('what strict mode accepts, and non-strict schemas', () => {
  const accepted: Schema = {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: '^[A-Z][a-z]+$' },
      when: { type: 'string', format: 'date-time' },
      count: { type: 'integer', minimum: 1, maximum: 9 },
      ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, multipleOf: 0.25 },
      tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 1, maxItems: 2 },
      maybe: { type: ['string', 'null'] },
      either: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/node' }] },
      fixed: { const: 'k' },
    },
    required: ['name', 'when', 'count', 'ratio', 'tags', 'maybe', 'either', 'fixed'],
    additionalProperties: false,
    $defs: {
      node: { type: 'object', properties: { value: { type: 'string' }, next: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/node' }] } }, required: ['value', 'next'], additionalProperties: false },
    },
  }

  it('accepts the documented subset, recursion through $defs included', async () => {
    const completion = await strictCompletion(accepted)
    expect(JSON.parse(completion.choices[0].message.content!)).toMatchObject({ fixed: 'k' })
  })

  it('checks nothing when strict is not set: OpenAI only checks strict schemas', async () => {
    const loose = { type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '^x': {} } }
    const completion = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: loose } },
    })
    expect(JSON.parse(completion.choices[0].message.content!)).toHaveProperty('a')
  })

  it("json_object still needs the word 'json' in the messages", async () => {
    const error = await client.chat.completions
      .create({ model: 'test-scripted', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 400, param: 'messages' })
    expect((error as Error).message).toContain("'messages' must contain the word 'json' in some form")
  })
})

describe('strict function tools', () => {
  const badTool = (strict: boolean) => ({
    type: 'function' as const,
    function: { name: 'lookup', strict, parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } },
  })

  it('chat: refused with invalid_function_parameters on the tool', async () => {
    const ok = { type: 'function' as const, function: { name: 'ok', strict: true, parameters: strictObject({}) } }
    const error = await client.chat.completions
      .create({ model: 'test-scripted', messages: [{ role: 'user', content: 'hi' }], tools: [ok, badTool(true)] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error).toMatchObject({ status: 400, param: 'tools[1].function.parameters', code: 'invalid_function_parameters' })
    expect((error as { error: { message: string } }).error.message).toBe(
      "Invalid schema for function 'lookup': In context=(), 'additionalProperties' is required to be supplied and to be false.",
    )
  })

  it('chat: the same tool without strict is served', async () => {
    const completion = await client.chat.completions.create({ model: 'test-scripted', messages: [{ role: 'user', content: 'call lookup' }], tools: [badTool(false)] })
    expect(completion.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'lookup' } })
  })

  it('chat: a strict function tool with a bad schema under a non-object root', async () => {
    const tool = { type: 'function' as const, function: { name: 'f', strict: true, parameters: { anyOf: [strictObject({})] } } }
    const error = await client.chat.completions.create({ model: 'test-scripted', messages: [{ role: 'user', content: 'hi' }], tools: [tool] }).catch((e: unknown) => e)
    expect((error as { error: { message: string } }).error.message).toBe(`Invalid schema for function 'f': schema must be a JSON Schema of 'type: "object"', got 'type: "None"'.`)
  })

  it('responses: text.format.schema and tools[i].parameters, code invalid_json_schema / invalid_function_parameters', async () => {
    const format = await client.responses
      .create({ model: 'test-scripted', input: 'hi', text: { format: { type: 'json_schema', name: 'answer', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } } })
      .catch((e: unknown) => e)
    expect(format).toMatchObject({ status: 400, param: 'text.format.schema', code: 'invalid_json_schema' })
    expect((format as { error: { message: string } }).error.message).toBe(
      "Invalid schema for response_format 'answer': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'a'.",
    )
    const tool = await client.responses
      .create({ model: 'test-scripted', input: 'hi', tools: [{ type: 'function', name: 'lookup', strict: true, parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }] })
      .catch((e: unknown) => e)
    expect(tool).toMatchObject({ status: 400, param: 'tools[0].parameters', code: 'invalid_function_parameters' })
  })

  it('assistants and runs: refused at create, before anything is stored or run', async () => {
    const error = await client.beta.assistants.create({ model: 'test-scripted', tools: [badTool(true)] }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 400, param: 'tools[0].function.parameters', code: 'invalid_function_parameters' })
    const formatError = await client.beta.assistants
      .create({ model: 'test-scripted', response_format: { type: 'json_schema', json_schema: { name: 'a', strict: true, schema: { type: 'array', items: {} } } } })
      .catch((e: unknown) => e)
    expect(formatError).toMatchObject({ status: 400, param: 'response_format' })
    const assistant = await client.beta.assistants.create({ model: 'test-scripted' })
    const thread = await client.beta.threads.create()
    const runError = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, tools: [badTool(true)] }).catch((e: unknown) => e)
    expect(runError).toMatchObject({ status: 400, param: 'tools[0].function.parameters' })
    expect((await client.beta.threads.runs.list(thread.id)).data).toHaveLength(0)
  })

  it('batches: a line with a refused schema fails with the same error, the others are served', async () => {
    const line = (id: string, schema: Schema) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'test-scripted', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } } },
      })
    const file = await client.files.create({
      file: new File([[line('good', strictObject({ a: { type: 'string' } })), line('bad', { type: 'object', properties: {}, required: [] })].join('\n')], 'in.jsonl'),
      purpose: 'batch',
    })
    t.ctx.jobs.start()
    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    for (let i = 0; i < 400 && !['completed', 'failed'].includes(batch.status); i++) {
      await new Promise((r) => setTimeout(r, 50))
      batch = await client.batches.retrieve(batch.id)
    }
    expect(batch.status).toBe('completed')
    const lines = [
      ...(await (await client.files.content(batch.output_file_id!)).text()).trim().split('\n'),
      ...(batch.error_file_id ? (await (await client.files.content(batch.error_file_id)).text()).trim().split('\n') : []),
    ].map((l) => JSON.parse(l))
    const bad = lines.find((l) => l.custom_id === 'bad')
    expect(bad.response.status_code).toBe(400)
    expect(bad.response.body.error.message).toBe("Invalid schema for response_format 'answer': In context=(), 'additionalProperties' is required to be supplied and to be false.")
    expect(lines.find((l) => l.custom_id === 'good').response.status_code).toBe(200)
  })
})
