import { afterAll, describe, it } from 'vitest'
import { apiRoutes, notImplementedRoutes } from '../../src/api/index.js'
import type { RouteDef } from '../../src/http/routes.js'
import { readSpecDocument } from '../helpers/spec-load.js'
import { createTestApp } from '../helpers/test-context.js'
import { validatingFetch } from '../helpers/validating-fetch.js'
import { buildCases, SIZES, type FuzzCase, type FuzzOperation } from './cases.js'
import { createFixtures } from './fixtures.js'
import { RAW_CASES, sendRaw } from './http-cases.js'
import { closeAgent, excerpt, judge, judgeRaw, sendHttp, sendInProcess, TIMEOUT_MS, type Finding, type Transport } from './judge.js'
import { fuzzSeed, Random } from './random.js'
import { SchemaReader } from './schema.js'

// A fuzz test derived from the spec over every operation Plinth mounts, built or not: for each,
// broken requests made from its parameters and request body schema (fuzz/cases.ts). No answer
// may be a 5xx (but the 501 of an operation not built), take more than TIMEOUT_MS, or be a 4xx
// that is not OpenAI's error shape. The operations are read from the routes, so a new route is
// fuzzed the day it is added. Reproduce a failure with the seed it prints (docs/conformance.md).

const seed = fuzzSeed()
const t = await createTestApp({}, { transport: 'http' })
// as in production: runs and batches the fuzzed requests start are carried out meanwhile
t.ctx.jobs.start()
// into Hono directly (fast); the three inference routes go over HTTP too, for the fast path
const inProcess = validatingFetch(((input: RequestInfo | URL, init?: RequestInit) => t.app.request(input as string, init)) as typeof fetch)
const fixtures = await createFixtures(t)
const docs = { v2: readSpecDocument('v2'), v1: readSpecDocument('v1') }
const readers = { v2: new SchemaReader(docs.v2), v1: new SchemaReader(docs.v1) }
/** POST routes the production listener serves before Hono (src/api/fast-path.ts). */
const FAST_PATH = new Set(['createChatCompletion', 'createCompletion', 'createEmbedding'])

function operation(route: RouteDef, served: boolean): FuzzOperation {
  const version = route.operationId in docs.v2.operations ? 'v2' : 'v1'
  return {
    operationId: route.operationId,
    method: route.method,
    path: route.path,
    scope: route.scope,
    served,
    extension: route.extension === true,
    version,
    spec: docs[version].operations[route.operationId],
  }
}

/**
 * Operations that end or spend their fixture (delete, archive, cancel, complete) go last, the
 * deepest first: a message is deleted before its thread.
 */
const spends = (op: FuzzOperation) => op.method === 'DELETE' || /\/(archive|cancel|complete)$/.test(op.path)
const order = (op: FuzzOperation) => (spends(op) ? 100 - op.path.split('{').length : 0)
const operations = [...apiRoutes(t.ctx).map((r) => operation(r, true)), ...notImplementedRoutes().map((r) => operation(r, false))].sort(
  (a, b) => order(a) - order(b),
)

type Found = Finding & { op: string; transport: Transport; case: FuzzCase }
const tally = { requests: 0, findings: [] as Found[], statuses: new Map<string, number>(), baselines: [] as string[], slowest: [] as { ms: number; what: string }[] }

afterAll(async () => {
  closeAgent()
  await t.close()
  if (process.env.FUZZ_SUMMARY) console.log(summary())
})

describe(`spec-derived fuzz (FUZZ_SEED=${seed})`, () => {
  it('knows the operations of every route', () => {
    const missing = operations.filter((op) => !op.extension && !op.spec).map((op) => op.operationId)
    if (missing.length) throw new Error(`no spec entry for ${missing.join(', ')}`)
  })

  for (const op of operations) {
    it(`${op.operationId} (${op.method} ${op.path})`, async () => {
      const rng = Random.forName(seed, op.operationId)
      const cases = buildCases(op, { reader: readers[op.version], fixtures, model: (id) => (id === 'createEmbedding' ? 'test-embed' : 'test-echo') }, rng)
      const found: Found[] = []
      for (const [index, c] of cases.entries()) {
        const transports: Transport[] = c.raw ? ['http'] : FAST_PATH.has(op.operationId) ? ['in-process', 'http'] : ['in-process']
        for (const transport of transports) {
          const answer = transport === 'http' ? await sendHttp(t.url, c) : await sendInProcess(inProcess, c)
          tally.requests++
          const status = 'hang' in answer ? 'hang' : String(answer.status)
          tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1)
          if (c.class === 'baseline' && op.served && !('hang' in answer) && answer.status >= 300) tally.baselines.push(`${op.operationId} ${answer.status} ${excerpt(answer.text, 200)}`)
          tally.slowest.push({ ms: answer.ms, what: `${op.operationId} ${transport} #${index} ${c.class} ${c.what.slice(0, 80)} → ${status}` })
          if (tally.slowest.length > 40) tally.slowest = tally.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10)
          const finding = judge(op, c, answer)
          if (finding) found.push({ ...finding, op: op.operationId, transport, case: { ...c, what: `#${index} ${c.what}` } })
        }
      }
      tally.findings.push(...found)
      if (found.length) throw new Error(report(op, found))
    })
  }

  it('answers requests broken below the API (bad HTTP, odd targets) in OpenAI\'s shape', async () => {
    const found: string[] = []
    for (const c of RAW_CASES) {
      const answer = await sendRaw(t.url, c.bytes)
      tally.requests++
      const finding = judgeRaw(answer)
      if (finding) found.push(`[${finding.class}] ${c.what}: ${excerpt(c.bytes, 120)}\n      → ${finding.detail}`)
    }
    if (found.length) throw new Error(`${found.length} finding(s) on raw HTTP requests:\n  ${found.join('\n  ')}`)
  })

  // the runs and batches the fuzzed requests started: none may have failed on a server error
  it('leaves no background work failed on a server error', async () => {
    const db = t.ctx.storage.db
    for (let i = 0; i < 250; i++) {
      const busy = await db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).where('run_at', '<=', Date.now()).limit(1).execute()
      if (!busy.length) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const runs = await db.selectFrom('runs').select(['id', 'last_error']).where('status', '=', 'failed').execute()
    const jobs = await db.selectFrom('jobs').select(['id', 'kind', 'payload']).where('status', '=', 'failed').execute()
    const batches = await db.selectFrom('batches').select(['id', 'errors']).where('errors', 'like', '%server_error%').execute()
    const lines = await db.selectFrom('batch_lines').select(['batch_id', 'line_no', 'result']).where('result', 'like', '%server_error%').execute()
    const failed = [
      ...runs.filter((r) => r.last_error?.includes('server_error')).map((r) => `run ${r.id}: ${r.last_error}`),
      ...jobs.map((j) => `job ${j.kind} ${j.id}: ${excerpt(j.payload, 200)}`),
      ...batches.map((b) => `batch ${b.id}: ${excerpt(b.errors ?? '', 200)}`),
      ...lines.map((l) => `batch ${l.batch_id} line ${l.line_no}: ${excerpt(l.result ?? '', 200)}`),
    ]
    if (failed.length) throw new Error(`background work failed on a server error (FUZZ_SEED=${seed}):\n  ${failed.join('\n  ')}`)
  })
})

function report(op: FuzzOperation, found: Found[]): string {
  const lines = found.slice(0, 15).map((f) => {
    const c = f.case
    const body = c.body === undefined ? '' : ` body ${excerpt(typeof c.body === 'string' ? c.body : Buffer.from(c.body).toString('latin1'), 160)}`
    const type = c.headers['content-type'] ? ` (${c.headers['content-type']})` : ''
    return `  [${f.class}] ${c.class} ${c.what}, ${f.transport}: ${c.method} ${excerpt(c.url, 160)}${type}${body}\n      → ${f.detail}`
  })
  const more = found.length > 15 ? `\n  ... and ${found.length - 15} more` : ''
  return (
    `${found.length} fuzz finding(s) for ${op.operationId}:\n${lines.join('\n')}${more}\n` +
    `Reproduce: FUZZ_SEED=${seed} npx vitest run test/fuzz/fuzz.test.ts -t '${op.operationId} '` +
    ` (sizes: long strings ${SIZES.longString}, arrays ${SIZES.bigArray}; timeout ${TIMEOUT_MS} ms)`
  )
}

function summary(): string {
  const byClass = new Map<string, Set<string>>()
  for (const f of tally.findings) (byClass.get(f.class) ?? byClass.set(f.class, new Set()).get(f.class)!).add(f.op)
  const counts = [...byClass].map(([k, ops]) => `${k}: ${tally.findings.filter((f) => f.class === k).length} in ${[...ops].join(', ')}`)
  const statuses = [...tally.statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')
  const baselines = tally.baselines.length ? `\nunbroken requests refused (the fuzzing of these stops early):\n  ${tally.baselines.join('\n  ')}` : ''
  const slowest = tally.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10).map((s) => `${Math.round(s.ms)} ms ${s.what}`)
  return `fuzz seed ${seed}: ${tally.requests} requests over ${operations.length} operations; statuses ${statuses}\n${counts.join('\n') || 'no findings'}${baselines}\nslowest answers:\n  ${slowest.join('\n  ')}`
}
