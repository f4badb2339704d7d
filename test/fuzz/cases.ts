import type { OperationEntry, SpecVersion } from '../helpers/spec-load.js'
import { ADMIN_KEY, PROJECT_KEY } from '../helpers/test-context.js'
import type { Fixtures } from './fixtures.js'
import { multipartBody, type Part } from './multipart.js'
import { Random } from './random.js'
import { isObject, SchemaReader, wrongTypeValues, type Schema } from './schema.js'

/**
 * The fuzz cases of one operation, derived from its spec entry (parameters, request body
 * schema) and its route (method, path, scope). Each case is one broken request; the test sends
 * it and judges the answer (fuzz.test.ts).
 */

export type CaseClass =
  | 'baseline'
  | 'auth'
  | 'path'
  | 'query'
  | 'body-malformed'
  | 'body-field'
  | 'content-type'
  | 'multipart'

export type FuzzCase = {
  class: CaseClass
  /** What was broken, for the failure report. */
  what: string
  method: string
  /** Path and query, from /v1 on, exactly as sent. */
  url: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Sent over a raw HTTP request so that `../` reaches the server unnormalised. */
  raw?: boolean
  /** Broken beyond doubt (not JSON, no key...): a 2xx answer is a finding too. */
  mustReject?: boolean
}

export type FuzzOperation = {
  operationId: string
  method: string
  /** The spec's path, without /v1. */
  path: string
  scope: 'project' | 'admin' | 'public'
  /** False for the routes that answer 501 not_implemented. */
  served: boolean
  extension: boolean
  version: SpecVersion
  spec?: OperationEntry
}

/**
 * Sizes of what the fuzzer sends. @NOTE kept below what makes a request slow today: issue 11 is
 * moving tokenizing and echoing of huge inputs off the event loop and adding context limits.
 * Once that has landed, raise longString and longWhitespace to 1_000_000 and bigArray to 10_000
 * (FUZZ_LONG_STRING, FUZZ_LONG_WHITESPACE, FUZZ_BIG_ARRAY try them now) so huge inputs are fuzzed too.
 */
export const SIZES = {
  longString: Number(process.env.FUZZ_LONG_STRING ?? 20_000),
  bigArray: Number(process.env.FUZZ_BIG_ARRAY ?? 500),
  /** A run of spaces: the tokenizer's slow case today (issue 11, item 2); raise to 1_000_000 then too. */
  longWhitespace: Number(process.env.FUZZ_LONG_WHITESPACE ?? 2_000),
}

/** At most this many cases of each class per operation (FUZZ_SCALE multiplies them). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1)
const BUDGET: Record<CaseClass, number> = {
  baseline: 1,
  auth: 8,
  path: 10,
  query: 14,
  'body-malformed': 10,
  'body-field': 60,
  'content-type': 5,
  multipart: 28,
}
/** An operation not built yet gets a few of each: it must answer 401, then 501, shaped. */
const NOT_SERVED_BUDGET = 2

const LONG = () => 'fuzz'.repeat(Math.ceil(SIZES.longString / 4)).slice(0, SIZES.longString)
const UNICODE = ['ünï©ødé 🙂', '\u202eevil', 'a\u0000b', '\ud800', '\udfff\ud800', '𝕱𝖚𝖟𝖟', '\t\n\r', '<|endoftext|>', 'a<|im_start|>b<|fim_prefix|>']
const NAN_LIKE = ['NaN', 'Infinity', '-Infinity', '1e999', '0x1F', '', ' 1 ', '1_000', '+1', '-0']
/** JSON schemas a model backend (test-scripted's synthesizer, llama's grammar) must survive. */
const HOSTILE_SCHEMAS: [string, unknown][] = [
  ['recursive $ref', { type: 'object', properties: { a: { $ref: '#' } }, required: ['a'] }],
  ['a $ref loop', { $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } }],
  ['a $ref outside', { $ref: 'https://example.com/schema.json' }],
  ['minItems 1e9', { type: 'array', items: { type: 'array', minItems: 1e9, items: { type: 'string', minLength: 1e9 } }, minItems: 1e9 }],
  ['minLength 1e12', { type: 'string', minLength: 1e12 }],
  ['contradictions', { type: 'integer', minimum: 10, maximum: 1, allOf: [{ type: 'string' }] }],
  ['empty enum and anyOf', { enum: [], anyOf: [] }],
  ['a bad pattern', { type: 'string', pattern: '(((a+)+)+)$[' }],
  ['wrong keyword types', { type: 42, properties: [], required: 'a', items: 'x', minItems: 'many' }],
  ['1,000 properties', { type: 'object', properties: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, { type: 'string' }])) }],
]

/** Raw JSON numbers that JSON.stringify cannot write: replaced into the text after it. */
const RAW_NUMBERS = ['1e400', '-1e400', '1' + '0'.repeat(400), '0.' + '0'.repeat(400) + '1']
const rawToken = (i: number) => `__fuzz_raw_${i}__`

export type CaseEnv = { reader: SchemaReader; fixtures: Fixtures; model: (operationId: string) => string }

type Candidate = { kind: string; make: () => FuzzCase }
type Path = (string | number)[]
/** A value to put in first: the optional object a target lies in. */
type Setup = { path: Path; value: unknown }
type Target = { path: Path; schema: Schema; setup: Setup[] }

export function buildCases(op: FuzzOperation, env: CaseEnv, rng: Random): FuzzCase[] {
  const b = new CaseBuilder(op, env)
  // a big body (chat has some 3,700 field cases) gets a share of its own on top of the budget
  const budget = (c: CaseClass, candidates: number) =>
    op.served ? Math.ceil((BUDGET[c] + (c === 'body-field' ? candidates / 8 : 0)) * SCALE) : NOT_SERVED_BUDGET
  // the request every other case breaks one thing of: how deep the fuzzing gets
  const out: FuzzCase[] = [b.baselineCase()]
  const add = (c: CaseClass, candidates: Candidate[]) =>
    out.push(...spread(candidates, budget(c, candidates.length), rng).map((x) => x.make()))
  add('auth', b.authCases())
  add('path', b.pathCases(rng))
  add('query', b.queryCases(rng))
  if (b.multipart) add('multipart', b.multipartCases(rng))
  else if (op.method === 'POST') {
    add('body-malformed', b.malformedCases(rng))
    add('body-field', b.fieldCases(rng))
    add('content-type', b.contentTypeCases())
  }
  return out
}

/** Up to n candidates, taking one of each kind in turn so every kind gets its share. */
function spread(candidates: Candidate[], n: number, rng: Random): Candidate[] {
  const groups = new Map<string, Candidate[]>()
  for (const c of rng.shuffle(candidates)) (groups.get(c.kind) ?? groups.set(c.kind, []).get(c.kind)!).push(c)
  const lists = rng.shuffle([...groups.values()])
  const out: Candidate[] = []
  for (let round = 0; out.length < n; round++) {
    let took = false
    for (const list of lists) {
      if (out.length >= n) break
      if (round < list.length) {
        out.push(list[round])
        took = true
      }
    }
    if (!took) break
  }
  return out
}

class CaseBuilder {
  readonly multipart: boolean
  private readonly bodySchema?: Schema
  private readonly pathParams: string[]
  private readonly queryParams: { name: string; required: boolean; schema: Schema }[]

  constructor(
    private readonly op: FuzzOperation,
    private readonly env: CaseEnv,
  ) {
    const content = op.spec?.requestBody?.content ?? {}
    this.multipart = 'multipart/form-data' in content
    this.bodySchema = (content['application/json'] ?? content['multipart/form-data']) as Schema | undefined
    this.pathParams = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
    this.queryParams = (op.spec?.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map((p) => ({ name: p.name, required: p.required, schema: p.schema as Schema }))
  }

  // ---- the valid request every case breaks one thing of ----

  headers(): Record<string, string> {
    const h: Record<string, string> = {}
    if (this.op.scope !== 'public') h.authorization = `Bearer ${this.op.scope === 'admin' ? ADMIN_KEY : PROJECT_KEY}`
    if (this.isAssistants()) h['openai-beta'] = `assistants=${this.op.version}`
    return h
  }

  private isAssistants() {
    return /^\/(assistants|threads)(\/|$)/.test(this.op.path)
  }

  pathWith(overrides: Record<string, string> = {}): string {
    return '/v1' + this.op.path.replace(/\{([^}]+)\}/g, (_, name: string) => overrides[name] ?? encodeURIComponent(this.env.fixtures.idFor(this.op.path, name)))
  }

  baseQuery(): [string, string][] {
    return this.queryParams.filter((p) => p.required).map((p) => [p.name, String(this.queryHint(p.name, p.schema))])
  }

  private queryHint(name: string, schema: Schema): unknown {
    if (name === 'start_time') return Math.floor(Date.now() / 1000) - 3600
    return this.env.reader.sample(schema, name, () => undefined)
  }

  url(query: [string, string][] = this.baseQuery(), path = this.pathWith()): string {
    const q = query.map(([k, v]) => `${k}=${v}`).join('&')
    return q ? `${path}?${q}` : path
  }

  hint = (name: string): unknown => {
    const f = this.env.fixtures
    switch (name) {
      case 'model':
        return this.env.model(this.op.operationId)
      case 'input_file_id':
        return f.batchFile
      case 'file_id':
        return f.file
      case 'assistant_id':
        return f.assistant
      case 'thread_id':
        return f.thread
      case 'user_id':
        return f.user
      case 'tool_call_id':
        return f.callId
      case 'tool_outputs':
        return [{ tool_call_id: f.callId, output: 'fuzz' }]
      case 'part_ids':
        return [f.part]
      case 'endpoint':
        return '/v1/chat/completions'
      case 'email':
        return 'fuzz-invitee@example.com'
      case 'bytes':
        return 4
      case 'filename':
        return 'fuzz.txt'
      case 'mime_type':
        return 'text/plain'
      default:
        return undefined
    }
  }

  baseBody(): unknown {
    return this.bodySchema ? this.env.reader.sample(this.bodySchema, '', this.hint) : undefined
  }

  private jsonCase(c: CaseClass, what: string, body: string | Uint8Array | undefined, extra: Partial<FuzzCase> = {}): FuzzCase {
    const headers = this.headers()
    if (body !== undefined) headers['content-type'] = 'application/json'
    return { class: c, what, method: this.op.method, url: this.url(), headers, body, ...extra }
  }

  private requestBody(): string | undefined {
    const base = this.baseBody()
    // a Plinth extension has no schema in the spec: an empty object stands for its body
    if (base === undefined) return this.op.extension && this.op.method === 'POST' ? '{}' : undefined
    return JSON.stringify(base)
  }

  baselineCase(): FuzzCase {
    if (!this.multipart) return this.jsonCase('baseline', 'the unbroken request', this.op.method === 'POST' ? this.requestBody() : undefined)
    const form = multipartBody(this.baseParts())
    return { class: 'baseline', what: 'the unbroken request', method: this.op.method, url: this.url(), headers: { ...this.headers(), 'content-type': form.contentType }, body: form.body }
  }

  // ---- auth ----

  authCases(): Candidate[] {
    const cases: [string, (h: Record<string, string>) => void, boolean][] = [
      ['no Authorization header', (h) => delete h.authorization, true],
      ['a wrong project key', (h) => (h.authorization = 'Bearer sk-proj-fuzz-0000000000000000000000000'), true],
      ['a Basic credential', (h) => (h.authorization = 'Basic Zm9vOmJhcg=='), true],
      ['an empty Bearer', (h) => (h.authorization = 'Bearer '), true],
      ['a 4 KB key', (h) => (h.authorization = `Bearer sk-${'k'.repeat(4096)}`), true],
      ['another organization', (h) => (h['openai-organization'] = 'org-fuzz'), true],
      // an admin key has no project for the header to contradict (http/auth.ts, A8)
      ['another project', (h) => (h['openai-project'] = 'proj_fuzz'), this.op.scope !== 'admin'],
    ]
    if (this.op.scope === 'project') cases.push(['an admin key', (h) => (h.authorization = `Bearer ${ADMIN_KEY}`), true])
    if (this.op.scope === 'admin') cases.push(['a project key', (h) => (h.authorization = `Bearer ${PROJECT_KEY}`), true])
    if (this.isAssistants() && this.op.served) {
      cases.push(['no OpenAI-Beta', (h) => delete h['openai-beta'], true])
      cases.push(['OpenAI-Beta: assistants=v3', (h) => (h['openai-beta'] = 'assistants=v3'), true])
    }
    // a public route (accepting an invite) has no key to break
    const applicable = this.op.scope === 'public' ? [] : cases
    return applicable.map(([what, change, mustReject]) => ({
      kind: what,
      make: () => {
        const body = this.multipart ? undefined : this.requestBody()
        const c = this.jsonCase('auth', what, this.op.method === 'POST' ? body : undefined, { mustReject })
        change(c.headers)
        return c
      },
    }))
  }

  // ---- path parameters ----

  pathCases(rng: Random): Candidate[] {
    const out: Candidate[] = []
    for (const name of this.pathParams) {
      const own = this.env.fixtures.idFor(this.op.path, name)
      const other = rng.pick(this.env.fixtures.all.filter((id) => id !== own))
      const encoded: [string, string][] = [
        ['..%2F..%2Fetc%2Fpasswd', 'an encoded traversal'],
        ['%2e%2e%2f%2e%2e%2f', 'an encoded traversal (dots too)'],
        ['%252e%252e%252f', 'a double-encoded traversal'],
        ['x'.repeat(4096), 'a 4 KB id'],
        [encodeURIComponent('ünï©ødé🙂'), 'a unicode id'],
        ['%ED%A0%80', 'an encoded lone surrogate'],
        ['%00', 'a NUL byte'],
        ['%ff%fe', 'percent-encoded invalid UTF-8'],
        ['%zz', 'a malformed percent escape'],
        ['%', 'a lone percent sign'],
        ['%20', 'a space'],
        [encodeURIComponent("'; DROP TABLE files;--"), 'SQL'],
        ['null', 'the word null'],
        ['-1', 'a negative number'],
        [encodeURIComponent(other), `an id of another object type (${other})`],
        [encodeURIComponent(own + 'x'), 'its own id with a character more'],
        [encodeURIComponent(own.toUpperCase()), 'its own id in upper case'],
      ]
      for (const [value, what] of encoded) {
        out.push({ kind: what, make: () => this.pathCase(`${name}: ${what}`, { [name]: value }) })
      }
      // unencoded `../`, sent as is over a socket: URL parsers would resolve it before sending
      for (const value of ['../../../../etc/passwd', '..', './.']) {
        out.push({ kind: 'raw traversal', make: () => ({ ...this.pathCase(`${name}: raw '${value}'`, { [name]: value }), raw: true }) })
      }
    }
    return out
  }

  private pathCase(what: string, overrides: Record<string, string>): FuzzCase {
    const c = this.jsonCase('path', what, this.multipart || this.op.method !== 'POST' ? undefined : this.requestBody())
    c.url = this.url(this.baseQuery(), this.pathWith(overrides))
    return c
  }

  // ---- query parameters ----

  queryCases(rng: Random): Candidate[] {
    const out: Candidate[] = []
    const base = this.baseQuery()
    const withParam = (what: string, pairs: [string, string][], drop?: string) => ({
      kind: what.replace(/^[^:]+: /, ''),
      make: () => {
        const query = [...base.filter(([k]) => k !== drop), ...pairs]
        const c = this.jsonCase('query', what, this.multipart || this.op.method !== 'POST' ? undefined : this.requestBody())
        c.url = this.url(query)
        return c
      },
    })
    for (const p of this.queryParams) {
      const types = this.env.reader.types(p.schema)
      const values: [string, string][] = [
        ['sideways', 'a word'],
        ['', 'empty'],
        ['-1', 'negative'],
        ['1e999', 'NaN-like'],
        ['99999999999999999999999', 'huge'],
        ['1.5', 'fraction'],
        [encodeURIComponent(LONG().slice(0, 8192)), 'long'],
        [percentEncode(rng.pick(UNICODE)), 'unicode'],
        ['%ff', 'invalid UTF-8'],
        ['%zz', 'malformed escape'],
      ]
      if (types?.has('integer') || types?.has('number')) values.push(['abc', 'not a number'])
      for (const [value, what] of values) out.push(withParam(`${p.name}: ${what}`, [[p.name, value]], p.name))
      out.push(withParam(`${p.name}: repeated`, [[p.name, String(this.queryHint(p.name, p.schema))], [p.name, 'sideways']], p.name))
      out.push(withParam(`${p.name}: as an array`, [[`${p.name}[]`, '1']], p.name))
      out.push(withParam(`${p.name}: as an object`, [[`${p.name}[a][b]`, '1']], p.name))
      if (p.required) out.push(withParam(`${p.name}: missing`, [], p.name))
    }
    // what every list takes, declared or not: unknown ones are ignored, bad ones a 400
    const common: [string, [string, string][]][] = [
      ['limit=-1', [['limit', '-1']]],
      ['limit=abc', [['limit', 'abc']]],
      ['limit=0', [['limit', '0']]],
      ['limit=1000000', [['limit', '1000000']]],
      ['order=sideways', [['order', 'sideways']]],
      ['after=garbage', [['after', 'garbage%00']]],
      ['before=garbage', [['before', encodeURIComponent('../x')]]],
      ['limit twice', [['limit', '1'], ['limit', '2']]],
      ['an unknown parameter', [['fuzz_unknown', '1']]],
      ['a key with brackets', [['a[b][c][d]', '1']]],
      ['a bare key', [['limit', '']]],
      ['500 parameters', Array.from({ length: 500 }, (_, i): [string, string] => [`p${i}`, String(i)])],
    ]
    for (const [what, pairs] of common) out.push(withParam(`common: ${what}`, pairs))
    return out
  }

  // ---- JSON bodies ----

  malformedCases(rng: Random): Candidate[] {
    const json = this.requestBody() ?? '{}'
    const required = this.op.spec?.requestBody?.required === true
    // a route that takes no body may ignore whatever is sent
    const parsed = this.op.spec?.requestBody !== undefined
    const cut = 1 + rng.int(Math.max(1, json.length - 1))
    const cases: [string, string | Uint8Array, boolean][] = [
      [`truncated at ${cut}`, json.slice(0, cut), true],
      ['not JSON', 'hello', true],
      ['single quotes', json.replace(/"/g, "'"), json.includes('"')],
      ['a trailing comma', json.replace(/}$/, ',}'), json.length > 2],
      ['an array', '[]', required],
      ['an array of the body', `[${json}]`, required],
      ['a string', '"fuzz"', required],
      ['a number', '42', required],
      ['null', 'null', required],
      ['true', 'true', required],
      ['an empty body', '', required],
      ['only whitespace', ' \n\t ', required],
      ['a byte-order mark first', '\ufeff' + json, false],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"fuzz":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), false],
      ['a raw control character in a string', '{"fuzz":"a\u0001b"}', true],
      ['5,000 nested arrays', '['.repeat(5000) + ']'.repeat(5000), required],
      ['200 nested objects', '{"a":'.repeat(200) + '1' + '}'.repeat(200), true],
      ['a duplicated key', json.replace(/^\{/, '{"fuzz":1,"fuzz":2,'), false],
      ['a number literal of 1e400', json.replace(/^\{/, '{"fuzz":1e400,'), false],
    ]
    return cases.map(([what, body, mustReject]) => ({
      kind: what,
      make: () => this.jsonCase('body-malformed', what, body, { mustReject: mustReject && parsed }),
    }))
  }

  fieldCases(rng: Random): Candidate[] {
    if (!this.bodySchema) return []
    const base = this.baseBody()
    if (!isObject(base)) return []
    const reader = this.env.reader
    const targets = this.targets(this.bodySchema, base, [], [], 0)
    const out: Candidate[] = []
    type Change = { path: Path; value: unknown; remove?: boolean }
    const apply = (body: unknown, target: Target | undefined, change: Change) => {
      for (const setup of target?.setup ?? []) setAt(body, setup.path, structuredClone(setup.value), false)
      setAt(body, change.path, change.value, change.remove === true)
    }
    const mutate = (kind: string, target: Target | undefined, path: Path, value: unknown, remove = false) => {
      out.push({
        kind,
        make: () => {
          const body = structuredClone(base)
          apply(body, target, { path, value, remove })
          return this.jsonCase('body-field', `${formatPath(path)}: ${kind}`, stringifyWithRaw(body))
        },
      })
    }
    const changes = (target: Target): [string, unknown, boolean?][] => {
      const types = reader.types(target.schema)
      const current = getAt(base, target.path) ?? target.setup.at(-1)?.value
      const list: [string, unknown, boolean?][] = wrongTypeValues(types).map((v) => ['wrong type', v])
      list.push(
        ['null', null],
        ['huge number', rng.pick([1e308, 2 ** 53 + 1, 2 ** 63, 4294967296])],
        ['huge number literal', rawToken(rng.int(RAW_NUMBERS.length))],
        ['negative number', rng.pick([-1, -(2 ** 31), -1e308, -0.5])],
        ['NaN-like string', rng.pick(NAN_LIKE)],
        ['long string', LONG()],
        ['long whitespace', `a${' '.repeat(SIZES.longWhitespace)}b`],
        ['unicode string', rng.pick(UNICODE)],
        ['deeply nested', nest(rng.pick([60, 127, 129, 1000]))],
        ['array for an object', [current ?? {}]],
        ['object for an array', isObject(current) ? current : { 0: current ?? 'fuzz' }],
        ['empty array', []],
        ['empty object', {}],
        ['big array', Array.from({ length: SIZES.bigArray }, () => (Array.isArray(current) ? current[0] : current) ?? 'fuzz')],
      )
      if (reader.enumValues(target.schema) || types?.has('string')) list.push(['bad enum', 'sideways'])
      const name = String(target.path.at(-1))
      if (/_ids?$/.test(name)) list.push(['an id of another object', rng.pick(this.env.fixtures.all)], ['an id of nothing', `${name.replace(/_ids?$/, '')}_fuzz`])
      if (name === 'model') list.push(['another model', rng.pick(['test-embed', 'test-scripted', 'gpt-4o', 'ft:test-echo:fuzz', '../test-echo'])])
      // values the schema allows, at its edges: they reach the code past validation
      for (const v of edgeValues(reader, target.schema)) list.push(['edge value', v])
      if (getAt(base, target.path) !== undefined) list.push(['removed', undefined, true])
      return list
    }
    for (const target of targets) {
      for (const [kind, value, remove] of changes(target)) mutate(kind, target, target.path, value, remove)
      const current = getAt(base, target.path) ?? target.setup.at(-1)?.value
      if (isObject(current)) {
        mutate('unknown property', target, [...target.path, 'fuzz_unknown'], true)
        mutate('unknown property', target, [...target.path, '__proto__'], { polluted: true })
      }
      if (/^(schema|parameters)$/.test(String(target.path.at(-1))))
        for (const [what, schema] of HOSTILE_SCHEMAS) mutate(`JSON schema: ${what}`, target, target.path, schema)
    }
    mutate('unknown property', undefined, ['fuzz_unknown'], true)
    mutate('unknown property', undefined, ['__proto__'], { polluted: true })
    mutate('unknown property', undefined, ['constructor'], { prototype: { polluted: true } })
    // a few changes at once, as a confused client would make them
    for (let i = 0; i < 30 && targets.length; i++) {
      out.push({
        kind: 'several at once',
        make: () => {
          const body = structuredClone(base)
          const picked = Array.from({ length: 2 + rng.int(3) }, () => rng.pick(targets))
          const what: string[] = []
          for (const target of picked) {
            const [kind, value, remove] = rng.pick(changes(target))
            apply(body, target, { path: target.path, value, remove })
            what.push(`${formatPath(target.path)}: ${kind}`)
          }
          return this.jsonCase('body-field', what.join(', '), stringifyWithRaw(body))
        },
      })
    }
    return out
  }

  /**
   * Every property the schema declares, three levels deep. An optional object the unbroken
   * body does not have is sampled, so its own properties get broken too (`setup` puts it in);
   * so is each alternative of a union (each message role, each content part type).
   */
  private targets(schema: Schema, value: unknown, path: Path, setup: Setup[], depth: number): Target[] {
    const reader = this.env.reader
    const out: Target[] = []
    for (const [key, prop] of Object.entries(reader.properties(schema))) {
      const here = [...path, key]
      out.push({ path: here, schema: prop, setup })
      if (depth >= 3) continue
      const present = isObject(value) ? value[key] : undefined
      const v = present ?? reader.sample(prop, key, this.hint)
      const own = present === undefined ? [...setup, { path: here, value: v }] : setup
      const items = reader.itemSchema(prop)
      if (isObject(v)) out.push(...this.targets(prop, v, here, own, depth + 1), ...this.branchTargets(prop, here, setup, depth))
      else if (items) {
        const item = Array.isArray(v) && v.length ? v[0] : reader.sample(items, key, this.hint)
        const arraySetup = Array.isArray(v) ? own : [...setup, { path: here, value: [item] }]
        if (isObject(item)) out.push(...this.targets(items, item, [...here, 0], arraySetup, depth + 1))
        out.push(...this.branchTargets(items, [...here, 0], [...setup, { path: here, value: [item] }], depth))
      } else out.push(...this.branchTargets(prop, here, setup, depth))
    }
    return out
  }

  /** The properties of each object alternative of a union, with that alternative put in first. */
  private branchTargets(schema: Schema, path: Path, setup: Setup[], depth: number): Target[] {
    const reader = this.env.reader
    return reader.objectBranches(schema).slice(0, 8).flatMap((branch) => {
      const v = reader.sample(branch, String(path.at(-1)), this.hint)
      return isObject(v) ? this.targets(branch, v, path, [...setup, { path, value: v }], depth + 1) : []
    })
  }

  contentTypeCases(): Candidate[] {
    const json = this.requestBody() ?? '{}'
    const form = multipartBody([{ name: 'model', value: 'test-echo' }])
    const cases: [string, string | undefined, string | Uint8Array][] = [
      ['no Content-Type', undefined, json],
      ['text/plain', 'text/plain', json],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'model=test-echo&fuzz=1'],
      ['multipart/form-data where JSON is expected', form.contentType, form.body],
      ['a JSON type with a multipart body', 'application/json', form.body],
      ['application/json; charset=utf-16', 'application/json; charset=utf-16', json],
      ['a garbage Content-Type', ';;==', json],
    ]
    return cases.map(([what, type, body]) => ({
      kind: what,
      make: () => {
        const c = this.jsonCase('content-type', what, body)
        if (type === undefined) delete c.headers['content-type']
        else c.headers['content-type'] = type
        return c
      },
    }))
  }

  // ---- multipart bodies ----

  private baseParts(): Part[] {
    if (!this.bodySchema) return []
    const reader = this.env.reader
    const props = reader.properties(this.bodySchema)
    return reader.required(this.bodySchema).map((name) => {
      if (isBinary(reader, props[name])) return { name, filename: 'fuzz.txt', contentType: 'text/plain', value: 'fuzz\n' }
      const value = reader.sample(props[name] ?? {}, name, this.hint)
      return { name, value: typeof value === 'string' ? value : JSON.stringify(value) }
    })
  }

  multipartCases(rng: Random): Candidate[] {
    const reader = this.env.reader
    const props = this.bodySchema ? reader.properties(this.bodySchema) : {}
    const base = this.baseParts()
    const out: Candidate[] = []
    const formCase = (kind: string, what: string, parts: Part[], tweak?: (c: FuzzCase, form: { body: Uint8Array; contentType: string }) => void, mustReject = false) => {
      out.push({
        kind,
        make: () => {
          const form = multipartBody(parts)
          const c: FuzzCase = { class: 'multipart', what, method: this.op.method, url: this.url(), headers: { ...this.headers(), 'content-type': form.contentType }, body: form.body, mustReject }
          tweak?.(c, form)
          return c
        },
      })
    }
    const replace = (name: string, part: Part | undefined) => [...base.filter((p) => p.name !== name), ...(part ? [part] : [])]
    for (const [name, schema] of Object.entries(props)) {
      const binary = isBinary(reader, schema)
      const required = base.some((p) => p.name === name)
      if (required) formCase('missing field', `${name}: missing`, replace(name, undefined), undefined, true)
      formCase('duplicate field', `${name}: twice`, [...base, ...(base.filter((p) => p.name === name).length ? base.filter((p) => p.name === name) : [{ name, value: 'fuzz' }, { name, value: 'fuzz' }])])
      if (binary) {
        formCase('file as text', `${name}: a plain field`, replace(name, { name, value: 'fuzz' }))
        for (const filename of ['../../../etc/passwd', '', 'x'.repeat(1000) + '.txt', 'ünï🙂.txt', 'a"b.txt', 'C:\\evil.txt', '.'])
          formCase('filename', `${name}: filename '${filename.slice(0, 40)}'`, replace(name, { name, filename, contentType: 'text/plain', value: 'fuzz\n' }))
        for (const contentType of ['application/x-evil', 'text/plain; charset=utf-16', '*/*'])
          formCase('part type', `${name}: part type ${contentType}`, replace(name, { name, filename: 'fuzz.txt', contentType, value: 'fuzz\n' }))
        formCase('empty file', `${name}: 0 bytes`, replace(name, { name, filename: 'fuzz.txt', contentType: 'text/plain', value: '' }))
        formCase('binary file', `${name}: binary bytes`, replace(name, { name, filename: 'fuzz.bin', contentType: 'application/octet-stream', value: Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a]) }))
        continue
      }
      formCase('text as file', `${name}: a file part`, replace(name, { name, filename: 'x.txt', contentType: 'text/plain', value: 'fuzz' }))
      const values = ['sideways', '', LONG().slice(0, 8192), rng.pick(UNICODE), '-1', '1e999', 'null', '{"a":1}', '[1,2]']
      for (const value of values) formCase('bad value', `${name}: '${value.slice(0, 20)}'`, replace(name, { name, value }))
      for (const [sub, subSchema] of Object.entries(reader.properties(schema))) {
        for (const value of ['sideways', '-1', '1e999', '']) formCase('bad nested value', `${name}[${sub}]: '${value}'`, [...base, { name: `${name}[${sub}]`, value }])
        formCase('bad nested value', `${name}[${sub}]: a wrong type`, [...base, { name: `${name}[${sub}]`, value: JSON.stringify(wrongTypeValues(reader.types(subSchema))[0] ?? 'fuzz') }])
      }
    }
    formCase('unknown field', 'an unknown field', [...base, { name: 'fuzz_unknown', value: '1' }])
    formCase('unknown field', 'a bracketed unknown field', [...base, { name: 'fuzz[a][b]', value: '1' }])
    formCase('too many parts', '100 parts', [...base, ...Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, value: 'x' }))])
    formCase('structure', 'no boundary in the Content-Type', base, (c) => (c.headers['content-type'] = 'multipart/form-data'), true)
    formCase('structure', 'another boundary in the Content-Type', base, (c) => (c.headers['content-type'] = 'multipart/form-data; boundary=other'), true)
    formCase('structure', 'cut before the closing boundary', base, (c, f) => (c.body = f.body.subarray(0, f.body.length - 10)), true)
    formCase('structure', 'cut in the middle', base, (c, f) => (c.body = f.body.subarray(0, Math.floor(f.body.length / 2))), true)
    formCase('structure', 'an empty body', base, (c) => (c.body = ''), true)
    formCase('structure', 'only a preamble', base, (c) => (c.body = 'this is not multipart\r\n'), true)
    formCase('structure', 'a part without headers', base, (c) => (c.body = '--fuzzboundary\r\n\r\nfuzz\r\n--fuzzboundary--\r\n'), true)
    formCase('structure', 'a part without a name', base, (c) => (c.body = '--fuzzboundary\r\nContent-Disposition: form-data\r\n\r\nfuzz\r\n--fuzzboundary--\r\n'))
    formCase('structure', 'LF line endings', base, (c, f) => (c.body = Buffer.from(f.body).toString('latin1').replace(/\r\n/g, '\n')))
    formCase('structure', 'an 8 KB header line', base, (c) => (c.body = `--fuzzboundary\r\nContent-Disposition: form-data; name="${'n'.repeat(8192)}"\r\n\r\nfuzz\r\n--fuzzboundary--\r\n`))
    formCase('structure', 'a boundary of 200 characters', base, (c) => (c.headers['content-type'] = `multipart/form-data; boundary=${'b'.repeat(200)}`))
    const fields = Object.fromEntries(base.map((p) => [p.name, typeof p.value === 'string' ? p.value : '']))
    formCase('content type', 'JSON where multipart is expected', base, (c) => ((c.body = JSON.stringify(fields)), (c.headers['content-type'] = 'application/json')), true)
    formCase('content type', 'urlencoded where multipart is expected', base, (c) => ((c.body = new URLSearchParams(fields).toString()), (c.headers['content-type'] = 'application/x-www-form-urlencoded')), true)
    formCase('content type', 'text/plain', base, (c) => (c.headers['content-type'] = 'text/plain'), true)
    formCase('content type', 'no Content-Type', base, (c) => delete c.headers['content-type'], true)
    formCase('content type', 'multipart/mixed', base, (c, f) => (c.headers['content-type'] = f.contentType.replace('form-data', 'mixed')), true)
    return out
  }
}

function isBinary(reader: SchemaReader, schema: Schema | undefined): boolean {
  const s = reader.resolve(schema)
  if (s.format === 'binary') return true
  return (s.anyOf ?? s.oneOf ?? []).some((b: Schema) => isBinary(reader, b))
}

/** Valid values at the limits a schema sets: its enum, its bounds, true, an empty string. */
function edgeValues(reader: SchemaReader, schema: Schema): unknown[] {
  const out: unknown[] = [...(reader.enumValues(schema) ?? [])]
  const s = reader.resolve(schema)
  const branches: Schema[] = [s, ...(s.anyOf ?? s.oneOf ?? []).map((b: Schema) => reader.resolve(b))]
  for (const b of branches) {
    const types = [b.type].flat()
    if (types.includes('integer') || types.includes('number')) {
      for (const bound of [b.minimum, b.maximum, b.exclusiveMinimum, b.exclusiveMaximum]) if (typeof bound === 'number') out.push(bound)
      out.push(0)
    }
    if (types.includes('boolean')) out.push(true, false)
    if (types.includes('string') && !b.enum) out.push('', ' ', 'x'.repeat(b.maxLength ?? 256))
  }
  return out
}

/** encodeURIComponent, but a lone surrogate goes out as the bytes WTF-8 would give it (invalid UTF-8). */
function percentEncode(text: string): string {
  let out = ''
  for (const ch of text) {
    const code = ch.charCodeAt(0)
    if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff)
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase()
    else out += encodeURIComponent(ch)
  }
  return out
}

/** JSON.stringify, then the raw number tokens replaced by what JSON.stringify cannot write. */
function stringifyWithRaw(value: unknown): string {
  return JSON.stringify(value).replace(/"__fuzz_raw_(\d+)__"/g, (_, i: string) => RAW_NUMBERS[Number(i)])
}

function nest(depth: number): unknown {
  let v: unknown = 'fuzz'
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v }
  return v
}

function getAt(value: unknown, path: (string | number)[]): unknown {
  let v: any = value
  for (const p of path) v = v?.[p]
  return v
}

function setAt(root: any, path: (string | number)[], value: unknown, remove: boolean) {
  let v = root
  for (const p of path.slice(0, -1)) {
    if (v[p] === undefined || v[p] === null || typeof v[p] !== 'object') v[p] = {}
    v = v[p]
  }
  const last = path[path.length - 1]
  if (remove) delete v[last]
  // defineProperty: `__proto__` must become an own key of the JSON, not the object's prototype
  else Object.defineProperty(v, last, { value, enumerable: true, writable: true, configurable: true })
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') || '(root)'
}
