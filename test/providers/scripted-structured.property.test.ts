import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { GenerateCall, StreamPart } from '../../src/providers/provider.js'
import { sampleRegex } from '../../src/providers/test/regex-sample.js'
import { scriptedStream } from '../../src/providers/test/scripted.js'
import { strictSchemaProblem } from '../../src/schemas/strict-schema.js'

/**
 * Issue 19's conformance check on test-scripted: random schemas from the strict-mode subset,
 * the model's answers (json_schema replies and strict tool-call arguments) validated by Ajv.
 */
type Schema = Record<string, unknown>

const ajv = new Ajv({ strict: false, allErrors: true })
addFormats.default(ajv)

const FORMATS = ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'uri']
const PATTERNS = ['^[A-Z][a-z]{2,5}$', '^\\d{3}-\\d{4}$', '^(foo|bar)_[0-9]+$', '^[a-f0-9]{8}$', 'abc', '^\\w+@\\w+\\.com$', '^[^x]{3}$', '^(?:ab)+c?$']

const strictObject = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false })

const stringSchema = fc.oneof(
  fc.constant<Schema>({ type: 'string' }),
  fc.constantFrom(...FORMATS).map((format): Schema => ({ type: 'string', format })),
  fc.constantFrom(...PATTERNS).map((pattern): Schema => ({ type: 'string', pattern })),
  fc.tuple(fc.nat(12), fc.nat(12)).map(([a, b]): Schema => ({ type: 'string', minLength: Math.min(a, b), maxLength: Math.max(a, b) })),
)

const numberSchema = fc
  .record({
    integer: fc.boolean(),
    low: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
    width: fc.integer({ min: 12, max: 500 }),
    hasHigh: fc.boolean(),
    exclusiveLow: fc.boolean(),
    exclusiveHigh: fc.boolean(),
    step: fc.option(fc.constantFrom(0.25, 0.5, 2, 3, 5), { nil: undefined }),
  })
  .map(({ integer, low, width, hasHigh, exclusiveLow, exclusiveHigh, step }): Schema => {
    const schema: Schema = { type: integer ? 'integer' : 'number' }
    if (low !== undefined) schema[exclusiveLow ? 'exclusiveMinimum' : 'minimum'] = low
    if (hasHigh) schema[exclusiveHigh ? 'exclusiveMaximum' : 'maximum'] = (low ?? -width / 2) + width
    if (step !== undefined && !(integer && !Number.isInteger(step))) schema.multipleOf = step
    return schema
  })

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  stringSchema,
  numberSchema,
  fc.constant<Schema>({ type: 'boolean' }),
  fc.constant<Schema>({ type: 'null' }),
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }).map((values): Schema => ({ type: 'string', enum: values })),
  fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 5 }).map((values): Schema => ({ type: 'integer', enum: values })),
  fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()).map((value): Schema => ({ const: value })),
  fc.constantFrom('string', 'integer', 'number', 'boolean').map((type): Schema => ({ type: [type, 'null'] })),
)

const { node } = fc.letrec<{ node: Schema; object: Schema; array: Schema; union: Schema }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, tie('object'), tie('array'), tie('union')),
  object: fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), tie('node'), { maxKeys: 4 }).map(strictObject),
  array: fc
    .tuple(tie('node'), fc.nat(3), fc.nat(3))
    .map(([items, a, b]): Schema => ({ type: 'array', items, minItems: Math.min(a, b), maxItems: Math.max(a, b) })),
  union: fc.tuple(tie('node'), tie('node'), fc.boolean()).map(([a, b, nullable]): Schema => ({ anyOf: nullable ? [{ type: 'null' }, a, b] : [a, b] })),
}))

/** A root object, sometimes with recursive definitions referenced from its properties. */
const rootSchema: fc.Arbitrary<Schema> = fc
  .tuple(fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), node, { minKeys: 1, maxKeys: 5 }), fc.boolean(), leaf)
  .map(([properties, recursive, value]) => {
    if (!recursive) return strictObject(properties)
    const tree = strictObject({
      value,
      children: { type: 'array', items: { $ref: '#/$defs/tree' }, minItems: 0, maxItems: 3 },
      next: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/tree' }] },
    })
    return { ...strictObject({ ...properties, tree: { $ref: '#/$defs/tree' }, again: { anyOf: [{ type: 'null' }, { $ref: '#' }] } }), $defs: { tree } }
  })

async function answerOf(call: Partial<GenerateCall>): Promise<{ content: string; args: string[] }> {
  const full: GenerateCall = {
    model: 'test-scripted',
    sampling: { n: 1 },
    messages: [{ role: 'user', content: 'answer in json' }],
    raw: {},
    signal: new AbortController().signal,
    ...call,
  }
  let content = ''
  const args: string[] = []
  for await (const part of scriptedStream(full, { rules: [] }) as AsyncIterable<StreamPart>) {
    if (part.type === 'text-delta') content += part.text
    if (part.type === 'tool-call-delta') args[part.index] = (args[part.index] ?? '') + part.argumentsDelta
  }
  return { content, args }
}

function violations(schema: Schema, text: string): string[] {
  const validate = ajv.compile(schema)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return [`not JSON: ${text.slice(0, 200)}`]
  }
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}: ${JSON.stringify(value).slice(0, 300)}`)
}

describe('test-scripted fills strict schemas so that every answer validates', () => {
  it('json_schema replies: 400 random strict schemas, 0 violations', async () => {
    let checked = 0
    await fc.assert(
      fc.asyncProperty(rootSchema, async (schema) => {
        // the generator stays inside what strict mode accepts
        expect(strictSchemaProblem(schema)).toBeUndefined()
        const { content } = await answerOf({ responseFormat: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } } })
        expect(violations(schema, content)).toEqual([])
        checked++
      }),
      { numRuns: 400, seed: 19 },
    )
    expect(checked).toBe(400)
  })

  it('strict tool-call arguments: 200 random schemas, two tools a call, 0 violations', async () => {
    await fc.assert(
      fc.asyncProperty(rootSchema, rootSchema, async (a, b) => {
        const tools = [
          { type: 'function' as const, function: { name: 'first', strict: true, parameters: a } },
          { type: 'function' as const, function: { name: 'second', strict: true, parameters: b } },
        ]
        const { args } = await answerOf({ tools, toolChoice: 'required', messages: [{ role: 'user', content: 'call first and second' }] })
        expect(args).toHaveLength(2)
        expect(violations(a, args[0])).toEqual([])
        expect(violations(b, args[1])).toEqual([])
      }),
      { numRuns: 200, seed: 1919 },
    )
  })

  it('builds strings for the patterns it reads, and gives up on the others', () => {
    for (const pattern of PATTERNS) {
      const sample = sampleRegex(pattern)
      expect([pattern, sample !== undefined && new RegExp(pattern, 'u').test(sample)]).toEqual([pattern, true])
    }
    expect(sampleRegex('^(?=a)b$')).toBeUndefined()
    expect(sampleRegex('(a)\\1')).toBeUndefined()
  })
})
