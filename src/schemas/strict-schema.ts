import { invalidRequest } from '../errors.js'

/**
 * OpenAI's structured-outputs strict mode, checked before any model is called: the schemas it
 * refuses get its 400, worded as it words them. The rules and limits are those of OpenAI's
 * "Supported schemas" (developers.openai.com/api/docs/guides/structured-outputs); the messages
 * are the ones its API returns, as quoted in public bug reports (docs/models.md#structured-outputs).
 */

type Schema = Record<string, unknown>

/** OpenAI's documented limits on one strict schema. */
export const STRICT_LIMITS = {
  /** object properties, summed over the whole schema ($defs included) */
  properties: 5000,
  /** levels of nesting: the root is level 1, each `properties`/`items` step one more */
  nesting: 10,
  /** enum values, summed over every enum */
  enumValues: 1000,
  /** characters of property names, definition names, enum values and const values together */
  stringLength: 120_000,
  /** characters of one string enum's values, when it has more than `largeEnum` values */
  largeEnumLength: 15_000,
  largeEnum: 250,
} as const

/** Keywords strict mode refuses wherever they appear (its docs' list, and what it answers). */
const NOT_PERMITTED = [
  'allOf', 'not', 'oneOf', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas',
  'patternProperties', 'unevaluatedProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'unevaluatedItems', 'contains', 'minContains', 'maxContains', 'uniqueItems',
] as const

/** Where a strict schema came from: what OpenAI's message calls it and where the 400 points. */
export type StrictSubject = {
  kind: 'response_format' | 'function'
  name: string
  param: string
  code: string | null
}

/** Why a strict schema is refused: the problem, and where in the schema (OpenAI's `context`). */
export type StrictProblem = { context?: (string | number)[]; text: string }

/** Past this many nested schemas the walk stops: the nesting limit is long exceeded by then. */
const MAX_WALK = 256

/**
 * The first reason strict mode refuses `schema`, or undefined when it accepts it. Shape rules
 * come first, in the order of the walk, then the limits, as OpenAI reports them.
 */
export function strictSchemaProblem(schema: unknown, kind: StrictSubject['kind'] = 'response_format'): StrictProblem | undefined {
  if (!isSchema(schema)) return { text: `schema must be a JSON Schema of 'type: "object"', got 'type: "None"'.` }
  const root = rootProblem(schema, kind)
  if (root) return root
  const walk = new Walk(schema)
  try {
    walk.node(schema, [], 1, 0)
    for (const defs of ['$defs', 'definitions'] as const) {
      const group = schema[defs]
      if (!isSchema(group)) continue
      for (const [name, sub] of Object.entries(group)) {
        walk.strings += name.length
        walk.node(sub, [defs, name], 1, 0)
      }
    }
  } catch (problem) {
    if (problem instanceof Found) return problem.problem
    throw problem
  }
  return walk.limitProblem()
}

/** The 400 for a refused strict schema, or undefined when strict mode accepts it. */
export function strictSchemaError(schema: unknown, subject: StrictSubject) {
  const problem = strictSchemaProblem(schema, subject.kind)
  if (!problem) return undefined
  const where = problem.context ? `In context=${pythonTuple(problem.context)}, ` : ''
  return invalidRequest(`Invalid schema for ${subject.kind} '${subject.name}': ${where}${problem.text}`, subject.param, subject.code)
}

type ChatLikeTool = { type?: unknown; function?: { name?: unknown; parameters?: unknown; strict?: unknown } }
type ChatLikeFormat = { type?: unknown; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } }

/**
 * Chat completions' (and the Assistants API's) strict schemas: `response_format.json_schema` and
 * each function tool with `strict: true`. Throws OpenAI's 400 for the first one refused.
 */
export function checkChatStrictSchemas(request: { response_format?: unknown; tools?: readonly unknown[] | null }): void {
  const format = request.response_format as ChatLikeFormat | null | undefined
  if (format && typeof format === 'object' && format.type === 'json_schema' && format.json_schema?.strict === true && format.json_schema.schema !== undefined) {
    const error = strictSchemaError(format.json_schema.schema, { kind: 'response_format', name: String(format.json_schema.name), param: 'response_format', code: null })
    if (error) throw error
  }
  ;(request.tools ?? []).forEach((tool, i) => {
    const fn = (tool as ChatLikeTool | null)?.function
    if ((tool as ChatLikeTool | null)?.type !== 'function' || fn?.strict !== true) return
    const error = strictSchemaError(fn.parameters ?? { type: 'object', properties: {}, additionalProperties: false, required: [] }, {
      kind: 'function',
      name: String(fn.name),
      param: `tools[${i}].function.parameters`,
      code: 'invalid_function_parameters',
    })
    if (error) throw error
  })
}

type ResponsesLikeTool = { type?: unknown; name?: unknown; parameters?: unknown; strict?: unknown }
type ResponsesLikeFormat = { type?: unknown; name?: unknown; schema?: unknown; strict?: unknown }

/** The Responses API's: `text.format` (a json_schema) and function tools with `strict: true`. */
export function checkResponsesStrictSchemas(request: { text?: { format?: unknown } | null; tools?: readonly unknown[] | null }): void {
  const format = request.text?.format as ResponsesLikeFormat | undefined
  if (format && format.type === 'json_schema' && format.strict === true && format.schema !== undefined) {
    const error = strictSchemaError(format.schema, { kind: 'response_format', name: String(format.name), param: 'text.format.schema', code: 'invalid_json_schema' })
    if (error) throw error
  }
  ;(request.tools ?? []).forEach((tool, i) => {
    const fn = tool as ResponsesLikeTool | null
    if (fn?.type !== 'function' || fn.strict !== true) return
    const error = strictSchemaError(fn.parameters ?? { type: 'object', properties: {}, additionalProperties: false, required: [] }, {
      kind: 'function',
      name: String(fn.name),
      param: `tools[${i}].parameters`,
      code: 'invalid_function_parameters',
    })
    if (error) throw error
  })
}

class Found {
  constructor(readonly problem: StrictProblem) {}
}

function found(context: (string | number)[], text: string): never {
  throw new Found({ context, text })
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function types(schema: Schema): string[] {
  const type = schema.type
  if (typeof type === 'string') return [type]
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : []
}

/** The root: an object, not a union (OpenAI checks it before anything inside). */
function rootProblem(schema: Schema, kind: StrictSubject['kind']): StrictProblem | undefined {
  if (!('type' in schema)) {
    if (kind === 'function' || '$ref' in schema) return { text: `schema must be a JSON Schema of 'type: "object"', got 'type: "None"'.` }
    return { text: `schema must have a 'type' key.` }
  }
  if (schema.type !== 'object') return { text: `schema must be a JSON Schema of 'type: "object"', got 'type: ${JSON.stringify(typeLabel(schema.type))}'.` }
  for (const key of ['oneOf', 'anyOf', 'enum', 'not'] as const) {
    if (key in schema) {
      return { text: `schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level. Found '${key}'.` }
    }
  }
  return undefined
}

function typeLabel(type: unknown): string {
  if (typeof type === 'string') return type
  if (Array.isArray(type)) return `[${type.map((t) => `'${String(t)}'`).join(', ')}]`
  return String(type)
}

/** One pass over the schema: shape rules thrown as found, sizes summed for the limits. */
class Walk {
  properties = 0
  enumValues = 0
  strings = 0
  deepest = 0
  largeEnum: number | undefined

  constructor(private readonly root: Schema) {}

  node(value: unknown, context: (string | number)[], level: number, frames: number): void {
    if (frames > MAX_WALK) {
      this.deepest = Math.max(this.deepest, level)
      return
    }
    if (!isSchema(value)) found(context, `schema must have a 'type' key.`)
    const schema = value
    this.deepest = Math.max(this.deepest, level)
    for (const key of NOT_PERMITTED) if (key in schema) found(context, `'${key}' is not permitted.`)
    if (typeof schema.$ref === 'string') {
      this.reference(schema.$ref, context)
      return
    }
    this.values(schema)
    if (Array.isArray(schema.anyOf)) {
      schema.anyOf.forEach((branch, i) => this.node(branch, [...context, 'anyOf', i], level, frames + 1))
      return
    }
    const kinds = types(schema)
    if (!kinds.length && !('enum' in schema) && !('const' in schema)) found(context, `schema must have a 'type' key.`)
    if (kinds.includes('object')) this.object(schema, context, level, frames)
    if (kinds.includes('array')) {
      if (!('items' in schema)) found(context, 'array schema missing items.')
      this.node(schema.items, [...context, 'items'], level + 1, frames + 1)
    }
  }

  private object(schema: Schema, context: (string | number)[], level: number, frames: number) {
    const properties = schema.properties
    if (!isSchema(properties)) found(context, 'object schema missing properties.')
    if (schema.additionalProperties !== false) found(context, `'additionalProperties' is required to be supplied and to be false.`)
    const keys = Object.keys(properties)
    const required: unknown[] = Array.isArray(schema.required) ? schema.required : []
    const missing = keys.find((key) => !required.includes(key))
    if (missing !== undefined) {
      found(context, `'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`)
    }
    const extra = required.find((key) => typeof key !== 'string' || !keys.includes(key))
    if (extra !== undefined) found(context, `Extra required key '${String(extra)}' supplied.`)
    this.properties += keys.length
    for (const key of keys) {
      this.strings += key.length
      this.node(properties[key], [...context, 'properties', key], level + 1, frames + 1)
    }
  }

  /** Enum and const values: counted for the enum and string-length limits. */
  private values(schema: Schema) {
    if (Array.isArray(schema.enum)) {
      this.enumValues += schema.enum.length
      let length = 0
      for (const value of schema.enum) if (typeof value === 'string') length += value.length
      this.strings += length
      if (schema.enum.length > STRICT_LIMITS.largeEnum && length > STRICT_LIMITS.largeEnumLength) this.largeEnum ??= length
    }
    if (typeof schema.const === 'string') this.strings += schema.const.length
  }

  /** `#` or a definition at the top level (`#/$defs/X`, `#/definitions/X`) that exists. */
  private reference(ref: string, context: (string | number)[]) {
    if (ref === '#') return
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref)
    if (!match) found(context, 'reference can only point to definitions defined at the top level of the schema.')
    const name = match[2].replace(/~1/g, '/').replace(/~0/g, '~')
    const group = this.root[match[1]]
    if (!isSchema(group) || !Object.hasOwn(group, name)) found(context, `reference '${ref}' does not point to a definition in the schema.`)
  }

  limitProblem(): StrictProblem | undefined {
    const limits = STRICT_LIMITS
    if (this.deepest > limits.nesting) return { text: `${this.deepest} levels of nesting exceeds limit of ${limits.nesting}.` }
    if (this.properties > limits.properties) return { text: `${this.properties} parameters exceeds limit of ${limits.properties}.` }
    const optOut = `Consider reducing the number of enums, or use 'strict: false' to opt out of structured outputs.`
    if (this.enumValues > limits.enumValues) {
      return { text: `Expected at most ${limits.enumValues} enum values in total within a single schema when using structured outputs, but received ${this.enumValues}. ${optOut}` }
    }
    if (this.largeEnum !== undefined) {
      return { text: `Expected at most ${limits.largeEnumLength} total characters across enum values when there are more than ${limits.largeEnum} enum values, but received ${this.largeEnum}. ${optOut}` }
    }
    if (this.strings > limits.stringLength) {
      return {
        text: `Expected at most ${limits.stringLength} total characters across property names, definition names, enum values and const values within a single schema when using structured outputs, but received ${this.strings}. Consider reducing the size of the schema, or use 'strict: false' to opt out of structured outputs.`,
      }
    }
    return undefined
  }
}

/** A path as Python prints a tuple, as OpenAI's messages show it: (), ('a',), ('a', 'b', 0). */
function pythonTuple(parts: (string | number)[]): string {
  const items = parts.map((p) => (typeof p === 'number' ? String(p) : `'${p}'`))
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
}
