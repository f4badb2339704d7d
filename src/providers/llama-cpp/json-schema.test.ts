import { describe, expect, it } from 'vitest'
import { endAtValue } from './grammar.js'
import { toGrammarSchema } from './json-schema.js'

describe('toGrammarSchema', () => {
  it('keeps what the grammar enforces and drops what only describes', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Person',
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Full name', maxLength: 40 },
        born: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        kind: { anyOf: [{ const: 'a' }, { type: 'null' }] },
        extra: { type: 'object' },
      },
      required: ['name'],
      additionalProperties: false,
    }
    expect(toGrammarSchema(schema, 'response_format')).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Full name', maxLength: 40 },
        born: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        kind: { oneOf: [{ const: 'a' }, { type: 'null' }] },
        extra: { type: 'object', properties: {}, additionalProperties: true },
      },
      additionalProperties: false,
    })
  })

  it('follows $defs and definitions references', () => {
    const schema = {
      type: 'object',
      properties: { a: { $ref: '#/definitions/A' } },
      definitions: { A: { type: 'integer' } },
    }
    expect(toGrammarSchema(schema, 'p')).toEqual({
      type: 'object',
      properties: { a: { $ref: '#/$defs/A' } },
      additionalProperties: false,
      $defs: { A: { type: 'integer' } },
    })
  })

  it('turns a list of types into one basic type or a union', () => {
    expect(toGrammarSchema({ type: ['string', 'null'] }, 'p')).toEqual({ type: ['string', 'null'] })
    expect(toGrammarSchema({ type: ['array', 'null'], items: { type: 'number' } }, 'p')).toEqual({
      oneOf: [{ type: 'array', items: { type: 'number' } }, { type: 'null' }],
    })
  })

  it('refuses constraints the grammar cannot enforce, naming the keyword and where it is', () => {
    const refuse = (schema: unknown) => () =>
      toGrammarSchema(schema, 'tools[0].function.parameters')
    expect(refuse({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } })).toThrow(
      /'minimum' at 'properties\.n'/,
    )
    expect(refuse({ type: 'string', pattern: '^a' })).toThrow(/'pattern'/)
    expect(refuse({ type: 'string', format: 'email' })).toThrow(
      /only the formats date-time, date, time/,
    )
    expect(refuse({ $ref: 'https://example.com/x' })).toThrow(/\$ref/)
    try {
      refuse({ type: 'string', pattern: 'x' })()
    } catch (error) {
      expect(error).toMatchObject({
        status: 400,
        param: 'tools[0].function.parameters',
        code: 'invalid_value',
      })
    }
  })
})

describe('endAtValue', () => {
  it("removes the newlines node-llama-cpp's schema grammars allow after the value", () => {
    // the root rule as node-llama-cpp 3.21.1 writes it
    const grammar =
      'root ::= "{" ws "\\"a\\"" ":" [ ]? integer-number-rule ws "}" "\\n\\n\\n\\n" [\\n]*\nws ::= [ ]?'
    expect(endAtValue(grammar)).toBe(
      'root ::= "{" ws "\\"a\\"" ":" [ ]? integer-number-rule ws "}"\nws ::= [ ]?',
    )
  })
})
