import type { SpecDocument } from '../helpers/spec-load.js'

/**
 * Reading the spec's request schemas (as spec-load converted them: JSON Schema, `$ref`s to
 * `openai-v2.json#/components/schemas/X`): what properties a body has, what JSON types a value
 * may take, and a plausible value for each, from which the fuzz cases are then broken.
 */
export type Schema = Record<string, any>

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null'

/** A value for a property the schema alone cannot make valid (a model, an id), by name. */
export type Hint = (name: string) => unknown

const MAX_DEPTH = 8

export class SchemaReader {
  constructor(private readonly doc: SpecDocument) {}

  resolve(schema: unknown): Schema {
    let out = (schema ?? {}) as Schema
    for (let hops = 0; typeof out.$ref === 'string' && hops < 20; hops++) {
      const name = /#\/components\/schemas\/(.+)$/.exec(out.$ref)?.[1]
      out = ((name && this.doc.components.schemas[decodeURIComponent(name)]) ?? {}) as Schema
    }
    return out
  }

  /** The properties of an object schema, through allOf and the object branches of anyOf. */
  properties(schema: unknown, depth = 0): Record<string, Schema> {
    const s = this.resolve(schema)
    if (depth > MAX_DEPTH) return {}
    const out: Record<string, Schema> = { ...(s.properties ?? {}) }
    for (const part of s.allOf ?? []) Object.assign(out, this.properties(part, depth + 1))
    for (const branch of s.anyOf ?? []) {
      for (const [k, v] of Object.entries(this.properties(branch, depth + 1))) out[k] ??= v
    }
    return out
  }

  required(schema: unknown, depth = 0): string[] {
    const s = this.resolve(schema)
    if (depth > MAX_DEPTH) return []
    const out = new Set<string>(s.required ?? [])
    for (const part of s.allOf ?? []) for (const r of this.required(part, depth + 1)) out.add(r)
    const first = this.chosenBranch(s)
    if (first) for (const r of this.required(first, depth + 1)) out.add(r)
    return [...out]
  }

  /** The JSON types a value may have; undefined when the schema says nothing (any value). */
  types(schema: unknown, depth = 0): Set<JsonType> | undefined {
    const s = this.resolve(schema)
    if (depth > MAX_DEPTH) return undefined
    if ('const' in s) return new Set([typeOf(s.const)])
    if (Array.isArray(s.enum)) return new Set(s.enum.map(typeOf))
    if (s.type) return new Set([s.type].flat() as JsonType[])
    const branches = s.anyOf ?? s.oneOf
    if (branches) {
      const out = new Set<JsonType>()
      for (const b of branches) {
        const t = this.types(b, depth + 1)
        if (!t) return undefined
        for (const x of t) out.add(x)
      }
      return out
    }
    for (const part of s.allOf ?? []) {
      const t = this.types(part, depth + 1)
      if (t) return t
    }
    if (s.properties) return new Set(['object'])
    if (s.items) return new Set(['array'])
    return undefined
  }

  /** The enum values a string may take (through anyOf), or undefined when it is free. */
  enumValues(schema: unknown, depth = 0): unknown[] | undefined {
    const s = this.resolve(schema)
    if (depth > MAX_DEPTH) return undefined
    if (Array.isArray(s.enum)) return s.enum.filter((v: unknown) => v !== null)
    const branches: unknown[] = s.anyOf ?? s.oneOf ?? []
    const values = branches.map((b) => this.enumValues(b, depth + 1))
    // a free-form branch (`string` beside a list of known models) means any string is fine
    if (values.length && values.every((v) => v)) return values.flat() as unknown[]
    return undefined
  }

  /** The alternatives of a union (anyOf/oneOf, through $ref) that are objects, or none. */
  objectBranches(schema: unknown): Schema[] {
    const s = this.resolve(schema)
    const branches: Schema[] = s.anyOf ?? s.oneOf ?? []
    return branches.filter((b) => Object.keys(this.properties(b)).length > 0)
  }

  /** The schema of an array's items (through anyOf), if the value may be an array. */
  itemSchema(schema: unknown): Schema | undefined {
    const s = this.resolve(schema)
    if (s.items) return s.items
    for (const b of s.anyOf ?? s.oneOf ?? []) {
      const items = this.itemSchema(b)
      if (items) return items
    }
    return undefined
  }

  /** A value the schema allows, made plausible by the hints: required properties only. */
  sample(schema: unknown, name: string, hint: Hint, depth = 0): unknown {
    const hinted = hint(name)
    if (hinted !== undefined) return hinted
    const s = this.resolve(schema)
    if (depth > MAX_DEPTH) return null
    if ('const' in s) return s.const
    if (Array.isArray(s.enum)) return s.enum.find((v: unknown) => v !== null) ?? null
    if (s.allOf) {
      const parts = s.allOf.map((p: unknown) => this.sample(p, name, hint, depth + 1))
      const objects = parts.filter(isObject)
      if (objects.length) return Object.assign({}, ...objects, this.sampleObject(s, hint, depth))
      return parts[0]
    }
    const branch = this.chosenBranch(s)
    if (branch) return this.sample(branch, name, hint, depth + 1)
    const types = [s.type ?? (s.properties ? 'object' : s.items ? 'array' : 'string')].flat()
    const type = types.find((t: string) => t !== 'null') ?? 'null'
    switch (type) {
      case 'object':
        return this.sampleObject(s, hint, depth)
      case 'array': {
        const count = Math.max(1, s.minItems ?? 1)
        return Array.from({ length: count }, () => this.sample(s.items ?? {}, name, hint, depth + 1))
      }
      case 'integer':
      case 'number':
        return Math.min(Math.max(1, s.minimum ?? 1, s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1), s.maximum ?? Infinity)
      case 'boolean':
        return false
      case 'null':
        return null
      default:
        return 'fuzz'.padEnd(s.minLength ?? 0, 'z')
    }
  }

  private sampleObject(s: Schema, hint: Hint, depth: number): Record<string, unknown> {
    const props = s.properties ?? {}
    const out: Record<string, unknown> = {}
    for (const key of s.required ?? []) out[key] = this.sample(props[key] ?? {}, key, hint, depth + 1)
    return out
  }

  /**
   * The alternative sample() takes: a plain string if there is one (a message's content), else
   * the first that is not null. The first of a discriminated union is usually the simplest.
   */
  private chosenBranch(s: Schema): Schema | undefined {
    const branches: Schema[] | undefined = s.anyOf ?? s.oneOf
    if (!branches?.length) return undefined
    const resolved = branches.map((b) => this.resolve(b))
    const plainString = resolved.findIndex((b) => b.type === 'string' && !b.enum)
    if (plainString >= 0) return branches[plainString]
    return branches[resolved.findIndex((b) => b.type !== 'null')] ?? branches[0]
  }
}

export function typeOf(value: unknown): JsonType {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value as JsonType
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Values of JSON types the schema does not allow: a wrong type for that property. */
export function wrongTypeValues(types: Set<JsonType> | undefined): unknown[] {
  if (!types) return []
  const allows = (t: JsonType) =>
    types.has(t) || (t === 'integer' && types.has('number'))
  const candidates: [JsonType, unknown][] = [
    ['string', 'fuzz'],
    ['integer', 42],
    ['number', 1.5],
    ['boolean', true],
    ['object', { fuzz: 1 }],
    ['array', ['fuzz']],
  ]
  return candidates.filter(([t]) => !allows(t)).map(([, v]) => v)
}
