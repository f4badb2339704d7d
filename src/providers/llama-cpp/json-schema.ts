import type { GbnfJsonSchema } from 'node-llama-cpp'
import { invalidRequest } from '../../errors.js'

type Schema = Record<string, unknown>

/** Keywords that only describe; the grammar needs none of them. */
const ANNOTATIONS = new Set([
  'title',
  'default',
  'examples',
  '$schema',
  '$comment',
  '$id',
  'deprecated',
  'readOnly',
  'writeOnly',
  'strict',
  'required',
])
const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean', 'null'])
const STRING_FORMATS = new Set(['date-time', 'date', 'time'])

/**
 * A client's JSON Schema → the subset node-llama-cpp turns into a grammar. What the grammar
 * enforces is kept; what only describes is dropped; a constraint the grammar cannot enforce
 * (pattern, numeric bounds, most formats...) is a 400 naming it, because Plinth promises that
 * constrained output always satisfies the schema and would otherwise break that promise.
 *
 * Two relaxations keep the promise: every listed property is generated (so `required` always
 * holds), and an object with listed properties gets no others.
 */
export function toGrammarSchema(schema: unknown, param: string): GbnfJsonSchema {
  const root = asSchema(schema, param, '')
  const defs = {
    ...(root.$defs as Schema | undefined),
    ...(root.definitions as Schema | undefined),
  }
  const converted = convert(root, param, '', new Set(Object.keys(defs)))
  if (!Object.keys(defs).length) return converted
  const $defs = Object.fromEntries(
    Object.entries(defs).map(([name, def]) => [
      name,
      convert(
        asSchema(def, param, `$defs.${name}`),
        param,
        `$defs.${name}`,
        new Set(Object.keys(defs)),
      ),
    ]),
  )
  return { ...converted, $defs } as GbnfJsonSchema
}

function convert(schema: Schema, param: string, at: string, defs: Set<string>): GbnfJsonSchema {
  const fail = (keyword: string, why = 'the grammar cannot enforce it') =>
    unsupported(param, at, keyword, why)
  const out: Record<string, unknown> = {}
  if (typeof schema.description === 'string') out.description = schema.description
  if (schema.$ref !== undefined) {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(String(schema.$ref))?.[1]
    if (!name || !defs.has(name))
      throw fail('$ref', `only references to #/$defs/<name> of this schema are supported`)
    return { ...out, $ref: `#/$defs/${name}` } as GbnfJsonSchema
  }
  if (schema.const !== undefined)
    return {
      ...out,
      const: primitive(schema.const, () =>
        fail('const', 'only a string, number, boolean or null const is supported'),
      ),
    } as GbnfJsonSchema
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || !schema.enum.length)
      throw fail('enum', 'it must be a non-empty array')
    return {
      ...out,
      enum: schema.enum.map((v) =>
        primitive(v, () =>
          fail('enum', 'only string, number, boolean or null values are supported'),
        ),
      ),
    } as GbnfJsonSchema
  }
  const union = (schema.anyOf ?? schema.oneOf) as unknown
  if (union !== undefined) {
    if (!Array.isArray(union) || !union.length)
      throw fail(schema.anyOf ? 'anyOf' : 'oneOf', 'it must be a non-empty array')
    return {
      ...out,
      oneOf: union.map((s, i) =>
        convert(asSchema(s, param, `${at}.anyOf[${i}]`), param, `${at}.anyOf[${i}]`, defs),
      ),
    } as GbnfJsonSchema
  }
  if (schema.allOf !== undefined) {
    if (!Array.isArray(schema.allOf) || schema.allOf.length !== 1)
      throw fail('allOf', 'only an allOf of one schema is supported')
    return convert(
      { ...asSchema(schema.allOf[0], param, `${at}.allOf[0]`), ...withoutKey(schema, 'allOf') },
      param,
      at,
      defs,
    )
  }
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !KNOWN.has(keyword)) throw fail(keyword)
  }
  const type = schema.type
  if (type === undefined) return anyValue(out)
  if (Array.isArray(type)) {
    const plainStrings =
      schema.format === undefined &&
      schema.minLength === undefined &&
      schema.maxLength === undefined
    if (type.every((t) => PRIMITIVES.has(t)) && plainStrings)
      return { ...out, type } as GbnfJsonSchema
    return {
      ...out,
      oneOf: type.map((t) => convert({ ...schema, type: t }, param, at, defs)),
    } as GbnfJsonSchema
  }
  switch (type) {
    case 'string': {
      if (schema.format !== undefined) {
        if (!STRING_FORMATS.has(String(schema.format)))
          throw fail('format', `only the formats ${[...STRING_FORMATS].join(', ')} are supported`)
        if (schema.minLength !== undefined || schema.maxLength !== undefined)
          throw fail('minLength', 'a length limit with a format is not supported')
        return { ...out, type, format: schema.format } as GbnfJsonSchema
      }
      return { ...out, type, ...pick(schema, ['minLength', 'maxLength']) } as GbnfJsonSchema
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { ...out, type } as GbnfJsonSchema
    case 'object': {
      const properties = (schema.properties ?? {}) as Schema
      const converted = Object.fromEntries(
        Object.entries(properties).map(([name, s]) => [
          name,
          convert(
            asSchema(s, param, `${at}.properties.${name}`),
            param,
            `${at}.properties.${name}`,
            defs,
          ),
        ]),
      )
      const extra = schema.additionalProperties
      // a free-form object ({"type":"object"}) takes any properties; listed ones get only those
      const additionalProperties =
        extra && typeof extra === 'object'
          ? convert(extra as Schema, param, `${at}.additionalProperties`, defs)
          : Object.keys(properties).length
            ? false
            : extra !== false
      return {
        ...out,
        type,
        properties: converted,
        additionalProperties,
        ...pick(schema, ['minProperties', 'maxProperties']),
      } as GbnfJsonSchema
    }
    case 'array': {
      const items =
        schema.items === undefined
          ? undefined
          : convert(asSchema(schema.items, param, `${at}.items`), param, `${at}.items`, defs)
      const prefixItems = Array.isArray(schema.prefixItems)
        ? schema.prefixItems.map((s, i) =>
            convert(
              asSchema(s, param, `${at}.prefixItems[${i}]`),
              param,
              `${at}.prefixItems[${i}]`,
              defs,
            ),
          )
        : undefined
      return {
        ...out,
        type,
        ...(items ? { items } : {}),
        ...(prefixItems ? { prefixItems } : {}),
        ...pick(schema, ['minItems', 'maxItems']),
      } as GbnfJsonSchema
    }
    default:
      throw fail('type', `'${String(type)}' is not a JSON Schema type`)
  }
}

/** Keywords the conversion understands (checked per type above). */
const KNOWN = new Set([
  'type',
  'description',
  'properties',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'format',
  '$defs',
  'definitions',
])

function anyValue(out: Record<string, unknown>): GbnfJsonSchema {
  return {
    ...out,
    oneOf: [
      { type: ['string', 'number', 'boolean', 'null'] },
      { type: 'object', additionalProperties: true },
      { type: 'array' },
    ],
  } as GbnfJsonSchema
}

function primitive(value: unknown, fail: () => Error): string | number | boolean | null {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
    return value as string | number | boolean | null
  throw fail()
}

function asSchema(value: unknown, param: string, at: string): Schema {
  if (value === true || value === undefined) return {}
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw unsupported(param, at, 'schema', 'a schema must be an object')
  return value as Schema
}

function pick(schema: Schema, keys: string[]): Schema {
  return Object.fromEntries(
    keys.filter((k) => typeof schema[k] === 'number').map((k) => [k, schema[k]]),
  )
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
