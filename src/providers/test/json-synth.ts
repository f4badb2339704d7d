type Schema = Record<string, any>

/**
 * Bounds on what one synthesized value may hold. Schemas come from clients: `minItems: 1e9`, or
 * arrays of arrays with large minItems, would otherwise exhaust the server's memory. Past these
 * bounds the value is cut short (it may then miss the schema, as a model's cut-off answer does).
 */
const MAX_NODES = 10_000
const MAX_CHARS = 10_000
const MAX_DEPTH = 20

type State = { root: Schema | undefined; nodes: number; chars: number }

/**
 * A deterministic value that satisfies a JSON schema: what the scripted model puts in tool-call
 * arguments and json_schema replies. Covers the subset OpenAI's structured outputs accept
 * (objects, arrays, enums, const, anyOf, $ref/$defs, numeric and length bounds).
 */
export function synthesize(schema: Schema | undefined): unknown {
  return value(schema, { root: schema, nodes: 0, chars: 0 }, 0)
}

function value(schema: Schema | undefined, state: State, depth: number): unknown {
  if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH) return null
  state.nodes++
  if (typeof schema.$ref === 'string') return value(resolveRef(state.root, schema.$ref), state, depth + 1)
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0]
  if ('default' in schema) return schema.default
  const variants = schema.anyOf ?? schema.oneOf
  if (Array.isArray(variants) && variants.length) {
    const nonNull = variants.find((v: Schema) => v?.type !== 'null') ?? variants[0]
    return value(nonNull, state, depth + 1)
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    return value(Object.assign({}, ...schema.allOf.filter((s: unknown) => s && typeof s === 'object')), state, depth + 1)
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t: string) => t !== 'null') ?? 'null') : schema.type
  switch (type ?? (schema.properties ? 'object' : undefined)) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const properties = schema.properties && typeof schema.properties === 'object' ? schema.properties : {}
      for (const [key, sub] of Object.entries<Schema>(properties)) {
        if (state.nodes >= MAX_NODES) break
        out[key] = value(sub, state, depth + 1)
      }
      return out
    }
    case 'array': {
      const wanted = Math.max(finite(schema.minItems) ?? 1, 0)
      const count = finite(schema.maxItems) !== undefined ? Math.min(wanted, schema.maxItems) : wanted
      const out: unknown[] = []
      while (out.length < count && state.nodes < MAX_NODES) out.push(value(schema.items ?? {}, state, depth + 1))
      return out
    }
    case 'string':
      return stringFor(schema, state)
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

function finite(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

function stringFor(schema: Schema, state: State): string {
  const byFormat: Record<string, string> = {
    'date-time': '2024-01-01T00:00:00Z',
    date: '2024-01-01',
    time: '00:00:00',
    email: 'user@example.com',
    uri: 'https://example.com',
    uuid: '00000000-0000-4000-8000-000000000000',
  }
  let text = typeof schema.format === 'string' && Object.hasOwn(byFormat, schema.format) ? byFormat[schema.format] : 'example'
  const min = Math.min(finite(schema.minLength) ?? 0, Math.max(MAX_CHARS - state.chars, 0))
  if (text.length < min) text = text.padEnd(min, 'x')
  const max = finite(schema.maxLength)
  if (max !== undefined && text.length > max) text = text.slice(0, Math.max(max, 0))
  state.chars += text.length
  return text
}

function numberFor(schema: Schema, integer: boolean): number {
  let n = 1
  const { minimum, exclusiveMinimum, maximum, exclusiveMaximum } = schema
  if (finite(minimum) !== undefined) n = Math.max(n, minimum)
  if (finite(exclusiveMinimum) !== undefined) n = Math.max(n, exclusiveMinimum + (integer ? 1 : 0.5))
  if (finite(maximum) !== undefined) n = Math.min(n, maximum)
  if (finite(exclusiveMaximum) !== undefined && n >= exclusiveMaximum) n = exclusiveMaximum - (integer ? 1 : 0.5)
  return integer ? Math.ceil(n) : n
}

function resolveRef(root: Schema | undefined, ref: string): Schema | undefined {
  if (!root || !ref.startsWith('#/')) return undefined
  return ref
    .slice(2)
    .split('/')
    .reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root)
}
