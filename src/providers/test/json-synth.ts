import { sampleRegex } from './regex-sample.js'

type Schema = Record<string, any>

/**
 * Bounds on what one synthesized value may hold. Schemas come from clients: `minItems: 1e9`, or
 * arrays of arrays with large minItems, would otherwise exhaust the server's memory. Past these
 * bounds the value is cut short (it may then miss the schema, as a model's cut-off answer does).
 */
const MAX_NODES = 10_000
const MAX_CHARS = 10_000
const MAX_DEPTH = 20
/** Past this depth a choice that ends the value (null, no items, a non-recursive branch) wins. */
const WIND_DOWN_DEPTH = 6

type State = { root: Schema | undefined; nodes: number; chars: number }

/**
 * A deterministic value that satisfies a JSON schema: what the scripted model puts in tool-call
 * arguments and json_schema replies. Covers the subset OpenAI's structured outputs accept: types
 * and unions with null, enum, const, anyOf, $ref/$defs (recursive ones end within a few levels),
 * string formats, the patterns of simple regular expressions, numeric bounds and multipleOf,
 * minItems/maxItems, minLength/maxLength.
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
  const variants = schema.anyOf ?? schema.oneOf
  if (Array.isArray(variants) && variants.length) return value(pickVariant(variants, depth), state, depth + 1)
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    return value(Object.assign({}, ...schema.allOf.filter((s: unknown) => s && typeof s === 'object')), state, depth + 1)
  }
  switch (pickType(schema, depth)) {
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
      const min = Math.max(finite(schema.minItems) ?? 0, 0)
      // one item shows the shape; deep in a recursive schema, as few as allowed end it
      const wanted = depth >= WIND_DOWN_DEPTH ? min : Math.max(min, 1)
      const count = finite(schema.maxItems) !== undefined ? Math.min(wanted, Math.max(schema.maxItems, 0)) : wanted
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

/** The first variant that is not null; deep in a recursive schema, one that ends the value. */
function pickVariant(variants: Schema[], depth: number): Schema {
  if (depth >= WIND_DOWN_DEPTH) {
    const ending = variants.find((v) => v?.type === 'null') ?? variants.find((v) => v && typeof v.$ref !== 'string')
    if (ending) return ending
  }
  return variants.find((v: Schema) => v?.type !== 'null') ?? variants[0]
}

function pickType(schema: Schema, depth: number): string | undefined {
  if (Array.isArray(schema.type)) {
    if (depth >= WIND_DOWN_DEPTH && schema.type.includes('null')) return 'null'
    return schema.type.find((t: string) => t !== 'null') ?? 'null'
  }
  return schema.type ?? (schema.properties ? 'object' : undefined)
}

function finite(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

const BY_FORMAT: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  duration: 'P1D',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uuid: '00000000-0000-4000-8000-000000000000',
  uri: 'https://example.com',
  'uri-reference': 'https://example.com',
  iri: 'https://example.com',
  'iri-reference': 'https://example.com',
  'json-pointer': '/example',
  'relative-json-pointer': '0',
  regex: '^example$',
}

function stringFor(schema: Schema, state: State): string {
  let text = typeof schema.format === 'string' && Object.hasOwn(BY_FORMAT, schema.format) ? BY_FORMAT[schema.format] : 'example'
  if (typeof schema.pattern === 'string') text = matching(schema.pattern, text) ?? text
  const min = Math.min(finite(schema.minLength) ?? 0, Math.max(MAX_CHARS - state.chars, 0))
  if ([...text].length < min) text = text.padEnd(min, 'x')
  const max = finite(schema.maxLength)
  if (max !== undefined && [...text].length > max) text = [...text].slice(0, Math.max(max, 0)).join('')
  state.chars += text.length
  return text
}

/**
 * A string the pattern matches: the format's example or `example` when it already does, else one
 * built from the pattern (regex-sample.ts). Undefined when neither works.
 */
function matching(pattern: string, preferred: string): string | undefined {
  let regex: RegExp
  try {
    regex = new RegExp(pattern, 'u')
  } catch {
    return undefined
  }
  if (regex.test(preferred)) return preferred
  const built = sampleRegex(pattern)
  return built !== undefined && regex.test(built) ? built : undefined
}

/** The smallest value in the bounds (1 when unbounded), a multiple of multipleOf when given. */
function numberFor(schema: Schema, integer: boolean): number {
  const { minimum, exclusiveMinimum, maximum, exclusiveMaximum } = schema
  const step = finite(schema.multipleOf) !== undefined && schema.multipleOf > 0 ? schema.multipleOf : undefined
  const fits = (n: number) =>
    (finite(minimum) === undefined || n >= minimum) &&
    (finite(exclusiveMinimum) === undefined || n > exclusiveMinimum) &&
    (finite(maximum) === undefined || n <= maximum) &&
    (finite(exclusiveMaximum) === undefined || n < exclusiveMaximum) &&
    (!integer || Number.isInteger(n))
  const lows = [minimum, exclusiveMinimum].filter((n) => finite(n) !== undefined) as number[]
  const highs = [maximum, exclusiveMaximum].filter((n) => finite(n) !== undefined) as number[]
  const high = highs.length ? Math.min(...highs) : undefined
  const low = lows.length ? Math.max(...lows) : high === undefined ? 1 : Math.min(1, Math.floor(high) - 1)
  if (step !== undefined) {
    for (let k = Math.ceil(low / step), tries = 0; tries < 64; k++, tries++) {
      const n = Number((k * step).toPrecision(15))
      if (fits(n)) return n
    }
  }
  for (let n = Math.ceil(low), tries = 0; tries < 3; n++, tries++) if (fits(n)) return n
  if (fits(low)) return low
  // a fraction between an exclusive lower bound and the upper one
  const between = high === undefined ? low + 0.5 : low + (high - low) / 2
  return fits(between) ? between : low
}

function resolveRef(root: Schema | undefined, ref: string): Schema | undefined {
  if (!root) return undefined
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  return ref
    .slice(2)
    .split('/')
    .reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root)
}
