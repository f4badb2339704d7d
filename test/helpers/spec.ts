import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
import { readSpecDocument, type SpecDocument, type SpecVersion } from './spec-load.js'

/** The official OpenAPI spec as a response validator, loaded once per process and version. */

export type { SpecVersion }
export type SpecOptions = { version?: SpecVersion }
/** One violation: a JSON pointer into the payload (`/choices/0/message/refusal`) and what is wrong. */
export type SpecError = { path: string; message: string }

/**
 * Which component schema each streaming operation's SSE `data:` payloads must match, by
 * operationId. A function receives the SSE `event:` name (assistants streams name every event)
 * and returns the schema name, or null for payloads that carry no JSON to check.
 * Payloads with an `error` key are always checked against ErrorResponse first.
 * Without an entry, the operation's own `text/event-stream` response schema is used.
 */
export const STREAM_SCHEMAS: Record<
  string,
  string | ((event: string | undefined) => string | null)
> = {
  createChatCompletion: 'CreateChatCompletionStreamResponse',
  // the spec has no chunk type for legacy completions: each chunk is a Completion object
  createCompletion: 'CreateCompletionResponse',
  createRun: assistantEventSchema,
  createThreadAndRun: assistantEventSchema,
  submitToolOuputsToRun: assistantEventSchema,
  // speech events (stream_format: sse) are newer than the spec file, which has no schema for
  // them: test/api/audio-speech.test.ts checks their shape itself
  createSpeech: () => null,
  // SDK 6's retrieve({ stream: true }), newer than the spec file: the events of createResponse
  getResponse: 'ResponseStreamEvent',
}

/** The Assistants stream's events (AssistantStreamEvent): each event name has its object. */
function assistantEventSchema(event: string | undefined): string | null {
  if (!event || event === 'done') return null
  if (event === 'thread.created') return 'ThreadObject'
  if (event === 'thread.run.step.delta') return 'RunStepDeltaObject'
  if (event.startsWith('thread.run.step.')) return 'RunStepObject'
  if (event.startsWith('thread.run.')) return 'RunObject'
  if (event === 'thread.message.delta') return 'MessageDeltaObject'
  if (event.startsWith('thread.message.')) return 'MessageObject'
  return `unknown assistant stream event ${event}`
}

type Loaded = {
  doc: SpecDocument
  ajv: Ajv
  templates: { method: string; segments: string[]; operationId: string; literals: number }[]
  validators: Map<string, ValidateFunction>
}

const loaded = new Map<SpecVersion, Loaded>()

function load(version: SpecVersion = 'v2'): Loaded {
  let spec = loaded.get(version)
  if (spec) return spec
  const doc = readSpecDocument(version)
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
  const addFormats = ((formats as any).default ?? formats) as (ajv: Ajv) => Ajv
  addFormats(ajv)
  // OpenAPI's numeric and binary formats carry no constraint a JSON value could break
  for (const name of ['int32', 'int64', 'float', 'double', 'binary', 'password'])
    ajv.addFormat(name, true)
  ajv.addSchema(doc)
  const templates = Object.entries(doc.operations).map(([operationId, op]) => {
    const segments = op.path.split('/').filter(Boolean)
    return {
      method: op.method,
      segments,
      operationId,
      literals: segments.filter((s) => !s.startsWith('{')).length,
    }
  })
  // a literal segment beats a parameter: POST /threads/runs is createThreadAndRun, not modifyThread
  templates.sort((a, b) => b.literals - a.literals)
  spec = { doc, ajv, templates, validators: new Map() }
  loaded.set(version, spec)
  return spec
}

/** The spec operation a request hits (`/v1/...` or without the prefix), with its version. */
export function matchOperation(
  method: string,
  pathname: string,
  options: SpecOptions = {},
): { operationId: string; version: SpecVersion } | undefined {
  const version = options.version ?? 'v2'
  const segments = pathname
    .replace(/^\/v1(?=\/|$)/, '')
    .split('/')
    .filter(Boolean)
  const upper = method.toUpperCase()
  const hit = load(version).templates.find(
    (t) =>
      t.method === upper &&
      t.segments.length === segments.length &&
      t.segments.every((s, i) => s.startsWith('{') || s === segments[i]),
  )
  if (hit) return { operationId: hit.operationId, version }
  // the six v1-only operations (assistant and message files) exist only in the old file
  return version === 'v2' ? matchOperation(method, pathname, { version: 'v1' }) : undefined
}

export function findOperation(
  method: string,
  pathname: string,
  options: SpecOptions = {},
): string | undefined {
  return matchOperation(method, pathname, options)?.operationId
}

/**
 * Checks a response body: a 2xx against the operation's JSON schema for that status (or
 * `default`), anything else against ErrorResponse plus OpenAI's exact error keys.
 */
export function validateResponse(
  operationId: string,
  status: number,
  body: unknown,
  options: SpecOptions = {},
): SpecError[] {
  if (status < 200 || status >= 300) return validateError(body, options)
  const op = load(options.version).doc.operations[operationId]
  if (!op) return fail(`${operationId} is not an operation of the ${options.version ?? 'v2'} spec`)
  const declared = Object.keys(op.responses)
  const key = [String(status), 'default'].find((k) => declared.includes(k))
  if (!key) return fail(`status ${status} is not a response of ${operationId} (spec: ${declared})`)
  if (!('application/json' in op.responses[key])) {
    const types = Object.keys(op.responses[key]).join(', ') || 'no body'
    return fail(`the spec has no JSON body for ${operationId} ${key} (it has: ${types})`)
  }
  return run(`#/operations/${operationId}/responses/${key}/application~1json`, body, options)
}

/** Checks one SSE `data:` payload (already JSON-parsed) of a streaming operation. */
export function validateStreamEvent(
  operationId: string,
  data: unknown,
  options: SpecOptions & { event?: string } = {},
): SpecError[] {
  if (data && typeof data === 'object' && 'error' in data) return validateError(data, options)
  const entry = STREAM_SCHEMAS[operationId]
  const name = typeof entry === 'function' ? entry(options.event) : entry
  if (name === null) return []
  if (name) return validateSchema(name, data, options)
  const op = load(options.version).doc.operations[operationId]
  if (op?.responses['200']?.['text/event-stream'])
    return run(`#/operations/${operationId}/responses/200/text~1event-stream`, data, options)
  return fail(`no streaming schema for ${operationId}: add it to STREAM_SCHEMAS in spec.ts`)
}

/** Checks a value against a named component schema (`CreateChatCompletionResponse`). */
export function validateSchema(
  name: string,
  value: unknown,
  options: SpecOptions = {},
): SpecError[] {
  if (!(name in load(options.version).doc.components.schemas)) return fail(`no schema ${name}`)
  return run(`#/components/schemas/${name}`, value, options)
}

const fail = (message: string): SpecError[] => [{ path: '', message }]

const ERROR_KEYS = ['code', 'message', 'param', 'type']

/** Checks an error body: OpenAI's ErrorResponse, with exactly message, type, param and code. */
export function validateError(body: unknown, options: SpecOptions = {}): SpecError[] {
  const errors = validateSchema('ErrorResponse', body, options)
  const error = (body as { error?: unknown } | null)?.error
  if (error && typeof error === 'object' && !Array.isArray(error)) {
    for (const key of Object.keys(error).filter((k) => !ERROR_KEYS.includes(k))) {
      errors.push({
        path: `/error/${key}`,
        message: 'is not an OpenAI error field (the keys are exactly message, type, param, code)',
      })
    }
  }
  return errors
}

function run(pointer: string, value: unknown, options: SpecOptions): SpecError[] {
  const spec = load(options.version)
  const ref = `${spec.doc.$id}${pointer}`
  let validate = spec.validators.get(ref)
  if (!validate) spec.validators.set(ref, (validate = spec.ajv.compile({ $ref: ref })))
  return validate(value) ? [] : describe(validate.errors ?? [])
}

/** Ajv errors → one line per problem, pointing at the offending field itself. */
function describe(errors: ErrorObject[]): SpecError[] {
  // `nullable` became anyOf [X, null]: the "must be null" branch is noise when X failed
  const useful = errors.filter((e) => !(e.keyword === 'type' && e.params.type === 'null'))
  const out = new Map<string, SpecError>()
  for (const e of useful) {
    let path = e.instancePath
    let message = e.message ?? e.keyword
    if (e.keyword === 'required')
      [path, message] = [`${path}/${escape(e.params.missingProperty)}`, 'is required but missing']
    if (e.keyword === 'additionalProperties')
      [path, message] = [`${path}/${escape(e.params.additionalProperty)}`, 'is not allowed']
    if (e.keyword === 'enum')
      message += `: ${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`
    // an anyOf summary only says something when none of its branches produced a finer error
    if (
      e.keyword === 'anyOf' &&
      useful.some(
        (o) => o !== e && o.instancePath.startsWith(e.instancePath) && o.keyword !== 'anyOf',
      )
    )
      continue
    out.set(`${path} ${message}`, { path, message })
  }
  return [...out.values()]
}

/** A property name as a JSON pointer segment (moderation categories contain `/`). */
const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')
