import type { z } from 'zod'
import { ApiError, invalidRequest, unrecognizedArgument } from '../errors.js'

type Issue = z.core.$ZodIssue
type Path = readonly PropertyKey[]

/** `messages[0].content`, the way OpenAI writes a parameter path. */
export function formatPath(path: Path): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${String(part)}` : String(part)
  }
  return out
}

export type ValidationStyle = {
  /** Chat, completions and embeddings answer an unknown top-level field with the older C2 text. */
  legacyUnknownArgument?: boolean
  /** Where the body is a query string, missing values are named the same way. */
  location?: 'body' | 'query'
  /** Stop at the first fatal issue (large bodies: http/body.ts). */
  abortEarly?: boolean
}

/**
 * Validates a parsed value with a wire schema; a failure is the OpenAI 400 the API would return.
 * Here, not in http/, because batch lines are validated by the domain exactly as live requests.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, style: ValidationStyle = {}): z.output<S> {
  // abortEarly is a context flag zod reads (its `validate` sets it) but does not type for safeParse
  const context = style.abortEarly
    ? ({ reportInput: true, abortEarly: true, error: markIntegers } as { reportInput: boolean })
    : { reportInput: true, error: markIntegers }
  const result = schema.safeParse(value, context)
  if (!result.success) throw validationError(result.error.issues, style)
  return result.data
}

/**
 * zod checks a number's type before its integer format, so a word in an integer field reads
 * "expected number" like a decimal field's. The field's schema knows (`isInt`): its issue is
 * marked, and named 'an integer' as OpenAI names it (C9).
 */
const INTEGER_MARK = 'expected an integer'
function markIntegers(issue: { code?: string; expected?: string; inst?: unknown }): string | undefined {
  if (issue.code === 'invalid_type' && issue.expected === 'number' && (issue.inst as { isInt?: boolean } | undefined)?.isInt) return INTEGER_MARK
  return undefined
}

/** The type an invalid_type issue expected, with marked integers (markIntegers) as 'int'. */
function expectedOf(issue: { code?: string; expected?: string; message?: string }): string {
  if (issue.expected === 'number' && issue.message === INTEGER_MARK) return 'int'
  return issue.expected ?? 'value'
}

/**
 * Turns zod's issues into the one OpenAI error the API would return (errors.md C2-C15, G11-G13).
 * Unknown arguments win over everything else, as they do at OpenAI.
 */
export function validationError(issues: readonly Issue[], style: ValidationStyle = {}): ApiError {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys')
  const issue = unknown ?? issues[0]
  return issueToError(issue, [], style)
}

function issueToError(issue: Issue, prefix: Path, style: ValidationStyle): ApiError {
  const path = [...prefix, ...issue.path]
  const param = formatPath(path)
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]
      if (path.length === 0 && style.legacyUnknownArgument) return unrecognizedArgument(key)
      const full = formatPath([...path, key])
      return invalidRequest(`Unknown parameter: '${full}'.`, full, 'unknown_parameter')
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        if (param === 'model' && style.legacyUnknownArgument) {
          return invalidRequest('you must provide a model parameter')
        }
        return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
      }
      if (typeof issue.input === 'number' && !Number.isNaN(issue.input) && !Number.isFinite(issue.input)) {
        return notFinite(param, issue.input, expectedOf(issue))
      }
      return invalidType(param, [expectedOf(issue)], issue.input)
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options ?? []
        const input = (issue as { input?: unknown }).input
        const value = input && typeof input === 'object' ? (input as Record<string, unknown>)[issue.discriminator] : undefined
        if (value === undefined) {
          const where = formatPath([...path])
          return invalidRequest(`Missing required parameter: '${where}'.`, where, 'missing_required_parameter')
        }
        return invalidValue(param, value, options)
      }
      return unionError(issue, path, param, style)
    }
    case 'invalid_value':
      // zod reports an absent enum field as a bad value; OpenAI says it is missing (C7)
      if (issue.input === undefined) {
        return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
      }
      return invalidValue(param, issue.input, issue.values)
    case 'too_big':
      return tooBig(issue, param)
    case 'too_small':
      return tooSmall(issue, param)
    case 'invalid_key': {
      const key = String(issue.path[issue.path.length - 1])
      const inner = issue.issues[0]
      if (inner?.code === 'too_big') {
        const parent = formatPath(path.slice(0, -1))
        return invalidRequest(
          `Invalid property name in '${parent}': '${key}' is too long. Expected a string with maximum length ${String(inner.maximum)}, but got a string with length ${key.length} instead.`,
          param,
          'string_above_max_length',
        )
      }
      return invalidRequest(`Invalid property name in '${formatPath(path.slice(0, -1))}': '${key}'.`, param, 'invalid_value')
    }
    case 'invalid_format':
      return invalidRequest(`Invalid '${param}': string does not match the expected format ${issue.format}.`, param, 'invalid_value')
    case 'custom':
      return customError(issue, param)
    default:
      return invalidRequest(`Invalid '${param}': ${issue.message}.`, param, 'invalid_value')
  }
}

function unionError(issue: Extract<Issue, { code: 'invalid_union' }>, path: Path, param: string, style: ValidationStyle) {
  if ((issue as { input?: unknown }).input === undefined) {
    return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
  }
  // A branch that got past its own type check tells the real problem (a bad part inside an array...).
  const isTypeMismatch = (branch: readonly Issue[]) =>
    branch.length === 1 && branch[0].path.length === 0 && branch[0].code === 'invalid_type'
  const deep = issue.errors.find((branch) => branch.length > 0 && !isTypeMismatch(branch))
  if (deep) return issueToError(deep[0], path, style)
  const input = (issue as { input?: unknown }).input
  // a schema may name its alternatives the way OpenAI does (schemas/shared.ts `expected`)
  if (issue.message.startsWith('expected ')) {
    return invalidRequest(`Invalid type for '${param}': ${issue.message}, but got ${describe(input)} instead.`, param, 'invalid_type')
  }
  const expected = issue.errors.flatMap((b) => b.map((i) => expectedOf(i as { expected?: string; message?: string })))
  return invalidType(param, expected, input)
}

const NOUN: Record<string, string> = {
  string: 'a string',
  number: 'a decimal',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
  undefined: 'undefined',
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal'
  return NOUN[typeof value] ?? `a ${typeof value}`
}

function invalidType(param: string, expected: string[], input: unknown) {
  const names = [...new Set(expected.map((e) => NOUN[e] ?? `a ${e}`))]
  const want = names.length > 1 ? `one of ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0] ?? 'a valid value'
  return invalidRequest(`Invalid type for '${param}': expected ${want}, but got ${describe(input)} instead.`, param, 'invalid_type')
}

/**
 * A JSON number too large for a double (`1e400`) parses as Infinity, which zod calls no number
 * ("expected a decimal, but got a decimal instead"): C13/C14's range error says what is wrong.
 */
function notFinite(param: string, input: number, expected: string) {
  const kind = expected === 'int' ? 'integer' : 'decimal'
  const [side, bound] = input > 0 ? ['above_max', 'above maximum'] : ['below_min', 'below minimum']
  return invalidRequest(
    `Invalid '${param}': ${kind} ${bound} value. Expected a finite value, but got ${String(input)} instead.`,
    param,
    `${kind}_${side}_value`,
  )
}

function invalidValue(param: string, value: unknown, options: readonly unknown[]) {
  const quoted = options.map((o) => `'${String(o)}'`)
  const list = quoted.length > 2 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}` : quoted.join(' and ')
  return invalidRequest(`Invalid value: '${String(value)}'. Supported values are: ${list}.`, param, 'invalid_value')
}

function tooBig(issue: Extract<Issue, { code: 'too_big' }>, param: string) {
  const max = String(issue.maximum)
  const input = (issue as { input?: unknown }).input
  if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
    const kind = Number.isInteger(input) && issue.origin !== 'number' ? 'integer' : Number.isInteger(input) ? 'integer' : 'decimal'
    return invalidRequest(
      `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${max}, but got ${String(input)} instead.`,
      param,
      `${kind}_above_max_value`,
    )
  }
  if (issue.origin === 'string') {
    const length = typeof input === 'string' ? input.length : '?'
    return invalidRequest(
      `Invalid '${param}': string too long. Expected a string with maximum length ${max}, but got a string with length ${length} instead.`,
      param,
      'string_above_max_length',
    )
  }
  const length = Array.isArray(input) ? input.length : '?'
  return invalidRequest(
    `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${length} instead.`,
    param,
    'array_above_max_length',
  )
}

function tooSmall(issue: Extract<Issue, { code: 'too_small' }>, param: string) {
  const min = String(issue.minimum)
  const input = (issue as { input?: unknown }).input
  if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
    const kind = Number.isInteger(input) ? 'integer' : 'decimal'
    return invalidRequest(
      `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${min}, but got ${String(input)} instead.`,
      param,
      `${kind}_below_min_value`,
    )
  }
  if (issue.origin === 'array' && Array.isArray(input) && input.length === 0) {
    return invalidRequest(
      `Invalid '${param}': empty array. Expected an array with minimum length ${min}, but got an empty array instead.`,
      param,
      'empty_array',
    )
  }
  if (issue.origin === 'string') {
    const length = typeof input === 'string' ? input.length : '?'
    return invalidRequest(
      `Invalid '${param}': string too short. Expected a string with minimum length ${min}, but got a string with length ${length} instead.`,
      param,
      'string_below_min_length',
    )
  }
  return invalidRequest(`Invalid '${param}': array too short. Expected an array with minimum length ${min}.`, param, 'array_below_min_length')
}

function customError(issue: Issue, param: string) {
  const input = (issue as { input?: unknown }).input
  if (issue.message.startsWith('too_many_properties')) {
    const count = input && typeof input === 'object' ? Object.keys(input).length : '?'
    const max = issue.message.split(':')[1] ?? '16'
    return invalidRequest(
      `Invalid '${param}': too many properties. Expected an object with at most ${max} properties, but got an object with ${count} properties instead.`,
      param,
      'object_above_max_properties',
    )
  }
  return invalidRequest(`Invalid '${param}': ${issue.message}`, param, 'invalid_value')
}
