/**
 * OpenAPI 3.0 schema objects → JSON Schema (draft-07) that Ajv validates faithfully.
 * Only schema positions are walked, so a property that happens to be called `description` or
 * `example` is kept while the keyword of that name is dropped.
 */
type Schema = Record<string, any>

const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions']
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf']
const SCHEMA_ONE = ['additionalProperties', 'not', 'propertyNames', 'contains', 'additionalItems']
/** Annotations and OpenAPI-only keywords: no effect on validity, or (discriminator) ignored by design. */
const DROP = new Set([
  'description',
  'title',
  'example',
  'examples',
  'deprecated',
  'discriminator',
  'externalDocs',
  'xml',
  'readOnly',
  'writeOnly',
  'nullable',
  'default',
  '$recursiveAnchor',
  // spec typos / doc-only keys seen in the file (`optional: true`, `dataDescription`)
  'optional',
  'dataDescription',
])

/** `owner` is the components.schemas name being converted, for `$recursiveRef: '#'`. */
export function convertSchema(schema: unknown, refBase: string, owner?: string): any {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema
  const input = schema as Schema
  let out: Schema = {}
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith('x-') || DROP.has(key)) continue
    if (key === '$ref') out.$ref = rebase(value, refBase)
    else if (key === '$recursiveRef')
      out.$ref = owner ? `${refBase}#/components/schemas/${owner}` : refBase
    else if (SCHEMA_MAPS.includes(key))
      out[key] = mapValues(value, (s) => convertSchema(s, refBase, owner))
    // The spec's oneOf alternatives often overlap (two nullable branches both accept null,
    // objects without additionalProperties: false accept each other); its discriminators are
    // what tell them apart and we ignore those, so "exactly one" is read as "at least one".
    else if (key === 'oneOf')
      out.anyOf = value.map((s: unknown) => convertSchema(s, refBase, owner))
    else if (SCHEMA_LISTS.includes(key))
      out[key] = value.map((s: unknown) => convertSchema(s, refBase, owner))
    else if (key === 'items')
      out.items = Array.isArray(value)
        ? value.map((s) => convertSchema(s, refBase, owner))
        : convertSchema(value, refBase, owner)
    else if (SCHEMA_ONE.includes(key))
      out[key] = typeof value === 'object' ? convertSchema(value, refBase, owner) : value
    else out[key] = value
  }
  // OpenAPI 3.0 spells exclusive bounds as booleans beside minimum/maximum (draft-04 style).
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue
    if (out[exclusive] && out[bound] !== undefined) out[exclusive] = out[bound]
    else delete out[exclusive]
    if (out[exclusive] !== undefined) delete out[bound]
  }
  if (input.nullable === true) out = allowNull(out)
  return out
}

/** `nullable: true` adds null to the type (and to an enum, which would otherwise reject it). */
function allowNull(schema: Schema): Schema {
  const composite = ['$ref', 'allOf', 'anyOf', 'oneOf', 'not'].some((k) => k in schema)
  if (typeof schema.type === 'string' && !composite) {
    const out: Schema = { ...schema, type: [schema.type, 'null'] }
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
    return out
  }
  return { anyOf: [schema, { type: 'null' }] }
}

function rebase(ref: string, refBase: string): string {
  return ref.startsWith('#') ? refBase + ref : ref
}

function mapValues(
  value: Record<string, unknown>,
  fn: (v: unknown) => unknown,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value ?? {}).map(([k, v]) => [k, fn(v)]))
}
