type Schema = Record<string, any>

/**
 * A deterministic value that satisfies a JSON schema: what the scripted model puts in tool-call
 * arguments and json_schema replies. Covers the subset OpenAI's structured outputs accept
 * (objects, arrays, enums, const, anyOf, $ref/$defs, numeric and length bounds).
 */
export function synthesize(schema: Schema | undefined, root: Schema | undefined = schema, depth = 0): unknown {
  if (!schema || depth > 20) return null
  if (schema.$ref) return synthesize(resolveRef(root, schema.$ref), root, depth + 1)
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0]
  if ('default' in schema) return schema.default
  const variants = schema.anyOf ?? schema.oneOf
  if (Array.isArray(variants) && variants.length) {
    const nonNull = variants.find((v: Schema) => v.type !== 'null') ?? variants[0]
    return synthesize(nonNull, root, depth + 1)
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    return synthesize(Object.assign({}, ...schema.allOf), root, depth + 1)
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t: string) => t !== 'null') ?? 'null') : schema.type
  switch (type ?? (schema.properties ? 'object' : undefined)) {
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [key, sub] of Object.entries<Schema>(schema.properties ?? {})) {
        out[key] = synthesize(sub, root, depth + 1)
      }
      return out
    }
    case 'array': {
      const count = Math.max(schema.minItems ?? 1, 0)
      const bounded = schema.maxItems !== undefined ? Math.min(count, schema.maxItems) : count
      return Array.from({ length: bounded }, () => synthesize(schema.items ?? {}, root, depth + 1))
    }
    case 'string':
      return stringFor(schema)
    case 'integer':
      return numberFor(schema, true)
    case 'number':
      return numberFor(schema, false)
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      return 'example'
  }
}

function stringFor(schema: Schema): string {
  const byFormat: Record<string, string> = {
    'date-time': '2024-01-01T00:00:00Z',
    date: '2024-01-01',
    time: '00:00:00',
    email: 'user@example.com',
    uri: 'https://example.com',
    uuid: '00000000-0000-4000-8000-000000000000',
  }
  let value = byFormat[schema.format] ?? 'example'
  if (schema.minLength && value.length < schema.minLength) value = value.padEnd(schema.minLength, 'x')
  if (schema.maxLength !== undefined && value.length > schema.maxLength) value = value.slice(0, schema.maxLength)
  return value
}

function numberFor(schema: Schema, integer: boolean): number {
  let value = 1
  if (schema.minimum !== undefined) value = Math.max(value, schema.minimum)
  if (schema.exclusiveMinimum !== undefined) value = Math.max(value, schema.exclusiveMinimum + (integer ? 1 : 0.5))
  if (schema.maximum !== undefined) value = Math.min(value, schema.maximum)
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) value = schema.exclusiveMaximum - (integer ? 1 : 0.5)
  return integer ? Math.ceil(value) : value
}

function resolveRef(root: Schema | undefined, ref: string): Schema | undefined {
  if (!root || !ref.startsWith('#/')) return undefined
  return ref
    .slice(2)
    .split('/')
    .reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root)
}
