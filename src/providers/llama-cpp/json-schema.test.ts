import { describe, expect, it } from 'vitest'
import { compileSchema } from './json-schema.js'
import { checkSchema } from './schema/check.js'

describe('compileSchema', () => {
  it('writes integers without a fraction or an exponent (the -4e-52 bug)', () => {
    const { grammar } = compileSchema({ type: 'integer' }, 'p')
    expect(grammar).toContain('integer ::= "-"? ( "0" | [1-9] [0-9]{0,14} )')
    expect(grammar).not.toMatch(/[eE]"/)
  })

  it('compiles bounds into digit automata', () => {
    const { grammar } = compileSchema({ type: 'integer', minimum: 3, maximum: 12 }, 'p')
    expect(grammar).toMatch(/integer-range ::= /)
    expect(grammar).not.toContain('"-"') // no negative number is in range
    // the sign applies to every length of the negative side, not only the first
    const signed = compileSchema({ type: 'integer', exclusiveMaximum: 45795 }, 'p').grammar
    expect(signed).toMatch(/integer-range ::= "-" \( [^)]*\| /)
  })

  it('refuses what a grammar cannot enforce, naming the keyword and where it is', () => {
    const refuse = (schema: unknown) => () => compileSchema(schema, 'tools[0].function.parameters')
    expect(refuse({ type: 'object', properties: { n: { type: 'array', uniqueItems: true } } })).toThrow(
      /'uniqueItems' at 'properties\.n'/,
    )
    expect(refuse({ type: 'string', pattern: '(a)\\1' })).toThrow(/'pattern'.*backreference/)
    expect(refuse({ type: 'string', pattern: '(?=a)' })).toThrow(/lookarounds/)
    expect(refuse({ type: 'string', format: 'uri' })).toThrow(/supported formats are date-time/)
    expect(refuse({ type: 'integer', multipleOf: 1013 })).toThrow(/'multipleOf'/)
    expect(refuse({ type: 'integer', minimum: 5, maximum: 4 })).toThrow(/'minimum'/)
    expect(refuse({ $ref: 'https://example.com/x' })).toThrow(/\$ref/)
    expect(refuse({ type: 'object', properties: {}, required: ['a'] })).toThrow(/'required'/)
    try {
      refuse({ type: 'string', pattern: '\\bx' })()
    } catch (error) {
      expect(error).toMatchObject({
        status: 400,
        param: 'tools[0].function.parameters',
        code: 'invalid_value',
      })
    }
  })

  it('marks a oneOf as inexact (its answers are checked whole and retried)', () => {
    expect(compileSchema({ oneOf: [{ type: 'integer' }, { type: 'number' }] }, 'p').exact).toBe(
      false,
    )
    expect(compileSchema({ anyOf: [{ type: 'integer' }, { type: 'null' }] }, 'p').exact).toBe(true)
  })
})

describe('checkSchema', () => {
  const schema = {
    $defs: { node: { type: 'object', properties: { next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } }, required: ['next'], additionalProperties: false } },
    type: 'object',
    properties: {
      n: { type: 'integer', minimum: 0, multipleOf: 0.1 },
      when: { type: 'string', format: 'date' },
      list: { $ref: '#/$defs/node' },
    },
    required: ['n', 'when', 'list'],
    additionalProperties: false,
  }
  it('accepts what satisfies the schema, floating point multiples included', () => {
    expect(checkSchema(schema, { n: 3, when: '2024-02-29', list: { next: { next: null } } })).toBeUndefined()
    expect(checkSchema({ type: 'number', multipleOf: 0.1 }, 0.3)).toBeUndefined()
  })
  it('says where and why a value fails', () => {
    expect(checkSchema(schema, { n: -4e-52, when: '2024-01-01', list: { next: null } })).toMatch(/\/n: not of type integer/)
    expect(checkSchema(schema, { n: 1, when: '2023-02-29', list: { next: null } })).toMatch(/\/when: not a valid date/)
    expect(checkSchema(schema, { n: 1, when: '2023-02-28', list: { next: { x: 1 } } })).toMatch(/\/list\/next/)
    expect(checkSchema(schema, { n: 1, when: '2023-02-28', list: { next: null }, extra: 1 })).toMatch(/extra: no value/)
  })
})
