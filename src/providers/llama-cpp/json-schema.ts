import type { GbnfJsonSchema } from 'node-llama-cpp'
import { invalidRequest } from '../../errors.js'
import { checkSchema } from './schema/check.js'
import { FORMAT_HELPERS, FORMATS } from './schema/formats.js'
import { alt, literal, repeat, Rules } from './schema/gbnf.js'
import { numberGrammar } from './schema/numbers.js'
import { JSON_CHAR, PatternError, patternGrammar } from './schema/pattern.js'

type Schema = Record<string, unknown>

/** A schema compiled for generation: its GBNF, and a check of a parsed answer against it. */
export type CompiledSchema = {
  grammar: string
  /** undefined when `value` satisfies the schema, else where and why it does not. */
  check: (value: unknown) => string | undefined
  /**
   * False when the grammar may produce a value the schema rejects (a `oneOf` whose branches
   * overlap): such answers are generated whole, checked, and generated again if they fail.
   */
  exact: boolean
}

/** Keywords that only describe; the grammar needs none of them. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  '$schema',
  '$comment',
  '$id',
  '$defs',
  'definitions',
  'deprecated',
  'readOnly',
  'writeOnly',
  'strict',
])
const BY_TYPE: Record<string, string[]> = {
  string: ['minLength', 'maxLength', 'pattern', 'format'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems'],
}
BY_TYPE.integer = BY_TYPE.number
const TYPED = new Set(Object.values(BY_TYPE).flat())
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'])
/** Repetition counts a grammar keeps exactly (llama.cpp expands `x{m,n}` into rules). */
const MAX_COUNT = 1000

// one optional space: a tiny model left free to indent spends its tokens on whitespace
const WS = '" "?'
const CHAR = `( ${JSON_CHAR} | "\\\\" ( ["\\\\/bfnrt] | "u" ( [0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} ) ) )`

/**
 * A client's JSON Schema → a GBNF grammar of Plinth's own, so that every keyword of OpenAI's
 * strict subset is enforced while the model generates: types and unions, enum, const, anyOf,
 * `$ref` (recursive too), string pattern (a regex subset compiled to GBNF) and formats, numeric
 * bounds and multipleOf (digit automata), array lengths. What a grammar cannot enforce is a 400
 * naming the keyword and where it is, never a silently broken promise.
 *
 * Two relaxations keep the promise: every listed property is generated (so `required` always
 * holds), and an object with listed properties gets no others. Numbers are written without an
 * exponent, with at most 15 digits.
 */
export function compileSchema(schema: unknown, param: string): CompiledSchema {
  const compiler = new Compiler(asSchema(schema, param, ''), param)
  const root = compiler.compile()
  return {
    grammar: compiler.rules.text(root),
    check: (value) => checkSchema(schema as Schema, value),
    exact: compiler.exact,
  }
}

class Compiler {
  readonly rules = new Rules()
  exact = true
  private readonly defs: Schema
  private readonly refs = new Map<string, string>()

  constructor(
    private readonly root: Schema,
    private readonly param: string,
  ) {
    this.defs = {
      ...(root.definitions as Schema | undefined),
      ...(root.$defs as Schema | undefined),
    }
  }

  compile(): string {
    const name = this.rules.reserve('value')
    this.refs.set('#', name)
    this.rules.set(name, this.node(this.root, ''))
    return name
  }

  private fail(at: string, keyword: string, why = 'a grammar cannot enforce it') {
    return unsupported(this.param, at, keyword, why)
  }

  private get ws() {
    return this.rules.fixed('ws', WS)
  }

  private get char() {
    return this.rules.fixed('char', CHAR)
  }

  private node(schema: Schema, at: string): string {
    if (schema.$ref !== undefined) return this.ref(schema, at)
    if (schema.const !== undefined) return literal(JSON.stringify(schema.const))
    if (schema.enum !== undefined) {
      if (!Array.isArray(schema.enum) || !schema.enum.length)
        throw this.fail(at, 'enum', 'it must be a non-empty array')
      return alt(schema.enum.map((v) => literal(JSON.stringify(v))))
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (schema[key] === undefined) continue
      const union = schema[key]
      if (!Array.isArray(union) || !union.length)
        throw this.fail(at, key, 'it must be a non-empty array')
      // a oneOf's branches may overlap: its answers are checked whole (see CompiledSchema.exact)
      if (key === 'oneOf' && union.length > 1) this.exact = false
      const rest = withoutKey(schema, key)
      const options = union.map((s, i) => {
        const branch = asSchema(s, this.param, `${at}.${key}[${i}]`)
        // keywords beside the union apply to every branch
        const merged = hasConstraints(rest) ? { ...rest, ...branch } : branch
        return this.node(merged, `${at}.${key}[${i}]`)
      })
      return this.rules.add(`${key}`, options.join(' | '))
    }
    if (schema.allOf !== undefined) {
      if (!Array.isArray(schema.allOf) || schema.allOf.length !== 1)
        throw this.fail(at, 'allOf', 'only an allOf of one schema is supported')
      const only = asSchema(schema.allOf[0], this.param, `${at}.allOf[0]`)
      return this.node({ ...withoutKey(schema, 'allOf'), ...only }, at)
    }
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !TYPED.has(keyword) && keyword !== 'type')
        throw this.fail(at, keyword)
    }
    const type = schema.type ?? inferredType(schema)
    if (type === undefined) return this.anyValue()
    if (Array.isArray(type)) {
      if (!type.length) throw this.fail(at, 'type', 'it must not be empty')
      return this.rules.add(
        'union',
        [...new Set(type)].map((t) => this.node({ ...schema, type: t }, at)).join(' | '),
      )
    }
    if (typeof type !== 'string' || !TYPES.has(type))
      throw this.fail(at, 'type', `'${String(type)}' is not a JSON Schema type`)
    switch (type) {
      case 'string':
        return this.string(schema, at)
      case 'number':
      case 'integer':
        return numberGrammar(
          this.rules,
          { integer: type === 'integer', ...pickNumbers(schema) },
          (keyword, why) => this.fail(at, keyword, why),
        )
      case 'boolean':
        return '( "true" | "false" )'
      case 'null':
        return '"null"'
      case 'object':
        return this.object(schema, at)
      default:
        return this.array(schema, at)
    }
  }

  private ref(schema: Schema, at: string): string {
    const ref = String(schema.$ref)
    const known = this.refs.get(ref)
    if (known) return known
    const name = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref)?.[1]
    const def = name === undefined ? undefined : this.defs[decodeURIComponent(name)]
    if (def === undefined)
      throw this.fail(at, '$ref', 'only references to #/$defs/<name> of this schema or # are supported')
    const rule = this.rules.reserve(`def-${name}`)
    this.refs.set(ref, rule)
    this.rules.set(rule, this.node(asSchema(def, this.param, `$defs.${name}`), `$defs.${name}`))
    return rule
  }

  private string(schema: Schema, at: string): string {
    const { pattern, format } = schema
    const lengths = schema.minLength !== undefined || schema.maxLength !== undefined
    let content: string
    if (pattern !== undefined || format !== undefined) {
      const keyword = pattern !== undefined ? 'pattern' : 'format'
      if (lengths)
        throw this.fail(at, schema.minLength !== undefined ? 'minLength' : 'maxLength', `a length limit together with ${keyword} is not supported`)
      if (pattern !== undefined && format !== undefined)
        throw this.fail(at, 'pattern', 'a pattern together with a format is not supported')
      if (pattern !== undefined) {
        if (typeof pattern !== 'string') throw this.fail(at, 'pattern', 'it must be a string')
        try {
          new RegExp(pattern, 'u')
        } catch {
          throw this.fail(at, 'pattern', 'it is not a valid regular expression')
        }
        try {
          content = patternGrammar(this.rules, pattern)
        } catch (error) {
          if (error instanceof PatternError) throw this.fail(at, 'pattern', error.message)
          throw error
        }
      } else {
        const body = FORMATS[String(format)]
        if (!body)
          throw this.fail(at, 'format', `the supported formats are ${Object.keys(FORMATS).join(', ')}`)
        for (const [name, helper] of Object.entries(FORMAT_HELPERS[String(format)] ?? {}))
          this.rules.fixed(name, helper)
        content = this.rules.add(`format-${String(format)}`, body)
      }
    } else {
      const min = count(schema.minLength, 0, () => this.fail(at, 'minLength', 'it must be a whole number'))
      const max = schema.maxLength === undefined ? undefined : count(schema.maxLength, 0, () => this.fail(at, 'maxLength', 'it must be a whole number'))
      if ((max ?? min) > MAX_COUNT * 5)
        throw this.fail(at, max !== undefined ? 'maxLength' : 'minLength', `a length above ${MAX_COUNT * 5} is not supported`)
      if (max !== undefined && max < min) throw this.fail(at, 'maxLength', 'it is below minLength')
      content = repeat(this.char, min, max)
    }
    return this.rules.add('string', `"\\"" ${content} "\\""`)
  }

  private object(schema: Schema, at: string): string {
    const properties = (schema.properties ?? {}) as Schema
    if (typeof properties !== 'object' || Array.isArray(properties))
      throw this.fail(at, 'properties', 'it must be an object')
    const names = Object.keys(properties)
    const extra = schema.additionalProperties
    const required = schema.required ?? []
    if (!Array.isArray(required)) throw this.fail(at, 'required', 'it must be an array')
    const ws = this.ws
    const minProps = count(schema.minProperties, 0, () => this.fail(at, 'minProperties', 'it must be a whole number'))
    const maxProps = schema.maxProperties === undefined ? undefined : count(schema.maxProperties, 0, () => this.fail(at, 'maxProperties', 'it must be a whole number'))
    if (names.length) {
      const missing = required.find((r) => !names.includes(String(r)))
      if (missing !== undefined)
        throw this.fail(at, 'required', `'${String(missing)}' is required but not among the properties`)
      if (names.length < minProps || (maxProps !== undefined && names.length > maxProps))
        throw this.fail(at, minProps > names.length ? 'minProperties' : 'maxProperties', 'every listed property is generated, and no other')
      const pairs = names.map((name) => {
        const value = this.node(
          asSchema(properties[name], this.param, `${at}.properties.${name}`),
          `${at}.properties.${name}`,
        )
        return `${literal(JSON.stringify(name))} ${ws} ":" ${ws} ${value}`
      })
      return this.rules.add('object', `"{" ${ws} ${pairs.join(` "," ${ws} `)} ${ws} "}"`)
    }
    if (required.length)
      throw this.fail(at, 'required', `'${String(required[0])}' is required but not among the properties`)
    if (extra === false) {
      if (minProps > 0) throw this.fail(at, 'minProperties', 'the object can have no property')
      return `"{" ${ws} "}"`
    }
    const value =
      extra && typeof extra === 'object'
        ? this.node(asSchema(extra, this.param, `${at}.additionalProperties`), `${at}.additionalProperties`)
        : this.anyValue()
    const pair = this.rules.add('pair', `${this.jsonString()} ${ws} ":" ${ws} ${value}`)
    return this.rules.add('object', `"{" ${ws} ${this.list(pair, minProps, maxProps, at, 'maxProperties')} ${ws} "}"`)
  }

  private array(schema: Schema, at: string): string {
    const min = count(schema.minItems, 0, () => this.fail(at, 'minItems', 'it must be a whole number'))
    const max = schema.maxItems === undefined ? undefined : count(schema.maxItems, 0, () => this.fail(at, 'maxItems', 'it must be a whole number'))
    if (max !== undefined && max < min) throw this.fail(at, 'maxItems', 'it is below minItems')
    if (Array.isArray(schema.items))
      throw this.fail(at, 'items', 'an array of item schemas is not supported (use prefixItems)')
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems.map((s, i) =>
          this.node(asSchema(s, this.param, `${at}.prefixItems[${i}]`), `${at}.prefixItems[${i}]`),
        )
      : []
    if (schema.prefixItems !== undefined && !Array.isArray(schema.prefixItems))
      throw this.fail(at, 'prefixItems', 'it must be an array')
    const item =
      schema.items === false
        ? undefined
        : schema.items === undefined || schema.items === true
          ? this.anyValue()
          : this.node(asSchema(schema.items, this.param, `${at}.items`), `${at}.items`)
    const ws = this.ws
    // the listed prefix items are all generated (up to maxItems), then the other items
    const first = prefix.slice(0, max ?? prefix.length)
    const restMin = Math.max(0, min - first.length)
    const restMax = max === undefined ? undefined : max - first.length
    if (!item && restMin > 0) throw this.fail(at, 'minItems', 'more items than prefixItems allows')
    let body: string
    if (!first.length) body = item && restMax !== 0 ? this.list(item, restMin, restMax, at, 'maxItems') : '""'
    else {
      const more =
        item && restMax !== 0
          ? repeat(this.rules.add('next-item', `"," ${ws} ${item}`), restMin, restMax)
          : ''
      body = [first.join(` "," ${ws} `), more].filter(Boolean).join(' ')
    }
    if (restMax !== undefined && restMax > MAX_COUNT) throw this.fail(at, 'maxItems', `more than ${MAX_COUNT} is not supported`)
    return this.rules.add('array', `"[" ${ws} ${body} ${ws} "]"`)
  }

  /** `item`s separated by commas, between min and max of them. */
  private list(item: string, min: number, max: number | undefined, at: string, keyword: string) {
    if ((max ?? min) > MAX_COUNT) throw this.fail(at, keyword, `more than ${MAX_COUNT} is not supported`)
    if (max === 0) return '""'
    const next = this.rules.add('next', `"," ${this.ws} ${item}`)
    const nonEmpty = `${item} ${repeat(next, Math.max(0, min - 1), max === undefined ? undefined : max - 1)}`.replace(/ ""$/, '')
    return min === 0 ? `( ${nonEmpty} )?` : nonEmpty
  }

  private jsonString(): string {
    return this.rules.add('json-string', `"\\"" ${this.char}* "\\""`)
  }

  /** Any JSON value (a schema without constraints). */
  private anyValue(): string {
    const ws = this.ws
    const value = 'json-value'
    if (this.rules.has(value)) return value
    const pair = `${this.jsonString()} ${ws} ":" ${ws} ${value}`
    this.rules.fixed(
      value,
      `json-object | json-array | ${this.jsonString()} | ${numberGrammar(this.rules, { integer: false }, () => new Error())} | "true" | "false" | "null"`,
    )
    this.rules.fixed('json-object', `"{" ${ws} ( ${pair} ( "," ${ws} ${pair} )* )? ${ws} "}"`)
    this.rules.fixed('json-array', `"[" ${ws} ( ${value} ( "," ${ws} ${value} )* )? ${ws} "]"`)
    return value
  }
}

function inferredType(schema: Schema): string | undefined {
  for (const [type, keywords] of Object.entries(BY_TYPE))
    if (keywords.some((k) => schema[k] !== undefined)) return type
  return undefined
}

function hasConstraints(schema: Schema): boolean {
  return Object.keys(schema).some((k) => !ANNOTATIONS.has(k))
}

function pickNumbers(schema: Schema) {
  return Object.fromEntries(BY_TYPE.number.filter((k) => schema[k] !== undefined).map((k) => [k, schema[k]]))
}

function count(value: unknown, fallback: number, fail: () => Error): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw fail()
  return value
}

function asSchema(value: unknown, param: string, at: string): Schema {
  if (value === true || value === undefined) return {}
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw unsupported(param, at, 'schema', 'a schema must be an object')
  return value as Schema
}

function withoutKey(schema: Schema, key: string): Schema {
  const { [key]: _, ...rest } = schema
  return rest
}

function unsupported(param: string, at: string, keyword: string, why: string) {
  const where = at ? ` at '${at.replace(/^\./, '')}'` : ''
  return invalidRequest(
    `Invalid schema for '${param}': '${keyword}'${where} is not supported by local llama.cpp models (${why}). They constrain output with a grammar built from the schema, so that it always satisfies it.`,
    param,
    'invalid_value',
  )
}

/**
 * The schema as node-llama-cpp's chat wrappers describe it to the model in the prompt, told as
 * it is generated: its TypeScript-like rendering knows `oneOf`, not `anyOf`, and every listed
 * property is generated, with no others. Generation itself uses compileSchema's grammar.
 */
export function describedSchema(schema: unknown): GbnfJsonSchema {
  const describe = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(describe)
    if (!value || typeof value !== 'object') return value
    const { anyOf, required: _, ...rest } = value as Schema
    const out: Schema = {}
    for (const [key, v] of Object.entries(rest))
      out[key] =
        key === 'properties' && v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, describe(s)]))
          : describe(v)
    if (anyOf !== undefined) out.oneOf = describe(anyOf)
    const listed = out.properties && Object.keys(out.properties).length
    const extra = out.additionalProperties
    if (listed && (typeof extra !== 'object' || !extra)) out.additionalProperties = false
    // an object without listed properties is generated free-form, unless told otherwise
    else if (out.type === 'object' && !listed && extra === undefined) out.additionalProperties = true
    return out
  }
  return describe(schema) as GbnfJsonSchema
}
