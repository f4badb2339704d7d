import fc from 'fast-check'

// Random JSON schemas from the subset OpenAI's strict mode documents, for the conformance test

type Schema = Record<string, unknown>

const NAMES = ['a', 'b', 'name', 'n', 'x_1', 'when', 'tags', 'id']
const FORMATS = ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']

/** Regex pieces: never a repetition of what can match nothing (refused by design). */
const regexAtom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'Z', '7', '-', '\\.', '\\"', '\\\\', ' '),
  fc.constantFrom('[a-c]', '[0-9A-F]', '[^a-z]', '[xyz_]', '\\d', '\\w', '\\s', '\\D', '.', '[\\d.]'),
  fc.constantFrom('(ab|cd)', '(?:x|yz|\\d)', '(a|b)'),
)
const quantifier = fc.constantFrom('', '', '?', '*', '+', '{2}', '{1,3}', '{0,2}', '+?')
const regex: fc.Arbitrary<string> = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.tuple(regexAtom, quantifier).map(([a, q]) => a + q), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([start, parts, end]) => `${start ? '^' : ''}${parts.join('')}${end ? '$' : ''}`)

const decimalBound = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -10000, max: 10000 }).map((n) => n / 100),
)

function numeric(type: 'integer' | 'number'): fc.Arbitrary<Schema> {
  return fc
    .record(
      {
        low: fc.option(decimalBound, { nil: undefined }),
        span: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 50, max: 100000 })),
        high: fc.boolean(),
        exclusiveLow: fc.boolean(),
        exclusiveHigh: fc.boolean(),
        multipleOf: fc.option(
          type === 'integer' ? fc.constantFrom(2, 3, 5, 7, 10, 25) : fc.constantFrom(0.5, 0.25, 0.1, 0.01, 3, 2.5),
          { nil: undefined, freq: 3 },
        ),
      },
      { requiredKeys: ['span', 'high', 'exclusiveLow', 'exclusiveHigh'] },
    )
    .map(({ low, span, high, exclusiveLow, exclusiveHigh, multipleOf }) => {
      const schema: Schema = { type }
      const lo = low ?? (high ? -span : undefined)
      if (lo !== undefined) schema[exclusiveLow ? 'exclusiveMinimum' : 'minimum'] = lo
      if (high || low === undefined) {
        const hi = (lo ?? 0) + (span ?? 10)
        schema[exclusiveHigh ? 'exclusiveMaximum' : 'maximum'] = hi
      }
      if (multipleOf !== undefined && !(type === 'number' && lo !== undefined && span < 2))
        schema.multipleOf = multipleOf
      return schema
    })
}

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant({ type: 'integer' }),
  fc.constant({ type: 'number' }),
  numeric('integer'),
  numeric('number'),
  fc.constant({ type: 'boolean' }),
  fc.constant({ type: 'null' }),
  fc.constant({ type: 'string' }),
  fc.integer({ min: 0, max: 6 }).map((n) => ({ type: 'string', maxLength: n })),
  regex.map((pattern) => ({ type: 'string', pattern })),
  fc.constantFrom(...FORMATS).map((format) => ({ type: 'string', format })),
  fc.uniqueArray(fc.oneof(fc.constantFrom('red', 'green', 'a "q"', 'é'), fc.integer({ min: -9, max: 99 })), {
    minLength: 1,
    maxLength: 4,
  }).map((values) => ({ enum: values })),
  fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()).map((value) => ({ const: value })),
  fc.constantFrom('integer', 'string', 'number', 'boolean').map((t) => ({ type: [t, 'null'] })),
)

/** A strict-mode object: every property required, no others. */
function object(value: fc.Arbitrary<Schema>): fc.Arbitrary<Schema> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...NAMES), value), {
      minLength: 1,
      maxLength: 3,
      selector: ([name]) => name,
    })
    .map((entries) => ({
      type: 'object',
      properties: Object.fromEntries(entries),
      required: entries.map(([name]) => name),
      additionalProperties: false,
    }))
}

const { node } = fc.letrec<{ node: Schema }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    object(tie('node')),
    fc
      .tuple(tie('node'), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }))
      .map(([items, min, extra]) => ({ type: 'array', items, minItems: min, maxItems: min + extra })),
    fc.tuple(tie('node'), tie('node')).map(([a, b]) => ({ anyOf: [a, b] })),
  ),
}))

/** A linked list through a recursive $ref. */
const recursive: fc.Arbitrary<Schema> = leaf.map((value) => ({
  type: 'object',
  properties: { list: { $ref: '#/$defs/item' } },
  required: ['list'],
  additionalProperties: false,
  $defs: {
    item: {
      type: 'object',
      properties: { value, next: { anyOf: [{ $ref: '#/$defs/item' }, { type: 'null' }] } },
      required: ['value', 'next'],
      additionalProperties: false,
    },
  },
}))

/** A response_format schema: any root. */
export const responseSchema: fc.Arbitrary<Schema> = fc.oneof(node, recursive)
/** A strict function's parameters: an object root. */
export const toolParameters: fc.Arbitrary<Schema> = fc.oneof(object(node), recursive)
