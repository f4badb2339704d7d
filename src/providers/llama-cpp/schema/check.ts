import { isIPv6 } from 'node:net'
import { userPattern } from '../../../regexp-guard.js'

type Schema = Record<string, unknown>

/**
 * The last line of defence behind the grammar: whether a parsed answer satisfies the client's
 * schema, by JSON Schema's rules for the keywords Plinth compiles (an unknown keyword never
 * reaches here: compiling refused it). Returns where and why it fails, or undefined.
 * `multipleOf` allows a relative error of 1e-9, as binary floating point needs (0.3 / 0.1 is
 * not a whole number in doubles); Ajv's `multipleOfPrecision` does the same.
 */
export function checkSchema(root: Schema, value: unknown): string | undefined {
  return check(root, root, value, '')
}

function check(root: Schema, schema: unknown, value: unknown, at: string): string | undefined {
  if (schema === true || schema === undefined) return undefined
  if (schema === false) return `${at || '/'}: no value is allowed`
  const s = schema as Schema
  const fail = (why: string) => `${at || '/'}: ${why}`
  if (s.$ref !== undefined) {
    const target = resolve(root, String(s.$ref))
    if (target === undefined) return fail(`unresolvable $ref ${String(s.$ref)}`)
    const error = check(root, target, value, at)
    if (error) return error
  }
  if (s.const !== undefined && !equal(s.const, value)) return fail('not the const')
  if (Array.isArray(s.enum) && !s.enum.some((v) => equal(v, value))) return fail('not in the enum')
  if (Array.isArray(s.anyOf) && !s.anyOf.some((b) => !check(root, b, value, at)))
    return fail('matches no anyOf branch')
  if (Array.isArray(s.oneOf) && s.oneOf.filter((b) => !check(root, b, value, at)).length !== 1)
    return fail('does not match exactly one oneOf branch')
  if (Array.isArray(s.allOf))
    for (const b of s.allOf) {
      const error = check(root, b, value, at)
      if (error) return error
    }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type]
    if (!types.some((t) => isType(t, value))) return fail(`not of type ${types.join(' or ')}`)
  }
  if (typeof value === 'string') return checkString(s, value, fail)
  if (typeof value === 'number') return checkNumber(s, value, fail)
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) return fail('too few items')
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) return fail('too many items')
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : []
    for (let i = 0; i < value.length; i++) {
      const error = check(root, i < prefix.length ? prefix[i] : s.items, value[i], `${at}/${i}`)
      if (error) return error
    }
    return undefined
  }
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>
    const keys = Object.keys(object)
    const properties = (s.properties ?? {}) as Schema
    for (const name of (s.required as string[] | undefined) ?? [])
      if (!(name in object)) return fail(`missing required property '${name}'`)
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties)
      return fail('too few properties')
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties)
      return fail('too many properties')
    for (const key of keys) {
      const sub = Object.hasOwn(properties, key) ? properties[key] : s.additionalProperties
      const error = check(root, sub, object[key], `${at}/${key}`)
      if (error) return error
    }
  }
  return undefined
}

function checkString(s: Schema, value: string, fail: (why: string) => string) {
  const length = [...value].length
  if (typeof s.minLength === 'number' && length < s.minLength) return fail('too short')
  if (typeof s.maxLength === 'number' && length > s.maxLength) return fail('too long')
  if (typeof s.pattern === 'string' && !userPattern(s.pattern).test(value))
    return fail(`does not match the pattern ${s.pattern}`)
  if (typeof s.format === 'string' && FORMAT_CHECKS[s.format] && !FORMAT_CHECKS[s.format](value))
    return fail(`not a valid ${s.format}`)
  return undefined
}

function checkNumber(s: Schema, value: number, fail: (why: string) => string) {
  if (!Number.isFinite(value)) return fail('not a finite number')
  if (typeof s.minimum === 'number' && value < s.minimum) return fail('below the minimum')
  if (typeof s.maximum === 'number' && value > s.maximum) return fail('above the maximum')
  if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum)
    return fail('not above the exclusiveMinimum')
  if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum)
    return fail('not below the exclusiveMaximum')
  if (typeof s.multipleOf === 'number') {
    const q = value / s.multipleOf
    if (Math.abs(Math.round(q) - q) > 1e-9) return fail(`not a multiple of ${s.multipleOf}`)
  }
  return undefined
}

function isType(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'array':
      return Array.isArray(value)
    case 'object':
      return !!value && typeof value === 'object' && !Array.isArray(value)
    default:
      return typeof value === type
  }
}

function resolve(root: Schema, ref: string): unknown {
  if (ref === '#') return root
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref)
  return m ? (root[m[1]] as Schema | undefined)?.[decodeURIComponent(m[2])] : undefined
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return (
    ka.length === kb.length &&
    ka.every((k) => equal((a as Schema)[k], (b as Schema)[k]) && Object.hasOwn(b, k))
  )
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(value)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return (
    month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && !leap ? 28 : DAYS[month - 1])
  )
}

function isTime(value: string): boolean {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:z|[+-](\d\d):(\d\d))$/i.exec(value)
  if (!m) return false
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const offsetOk = m[4] === undefined || (Number(m[4]) <= 23 && Number(m[5]) <= 59)
  return h <= 23 && min <= 59 && sec <= 59 && offsetOk
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const FORMAT_CHECKS: Record<string, (value: string) => boolean> = {
  date: isDate,
  time: isTime,
  'date-time': (v) => {
    const [date, time, ...rest] = v.split(/t|\s/i)
    return !rest.length && time !== undefined && isDate(date) && isTime(time)
  },
  duration: (v) =>
    /^P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)$/.test(v),
  email: (v) =>
    new RegExp(
      `^[a-z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)*@(?:${LABEL}\\.)+${LABEL}$`,
      'i',
    ).test(v),
  hostname: (v) =>
    v.length <= 253 && new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`, 'i').test(v),
  ipv4: (v) => /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v),
  ipv6: (v) => isIPv6(v),
  uuid: (v) => /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(v),
}
