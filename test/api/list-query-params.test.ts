import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRoutes } from '../../src/api/index.js'
import { readSpecDocument } from '../helpers/spec-load.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Query strings carry text: an integer parameter given a word or a fraction is OpenAI's C9
// `Invalid type for 'limit': expected an integer, but got a string instead.` on every list
// endpoint, before the object the path names is looked up (zod's coerce once answered
// "expected a decimal, but got a decimal instead" for a word, and nothing at all for `1e1`).

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

type List = { path: string; version?: 'v1' | 'v2'; admin?: boolean; param?: string }

/**
 * Every GET that takes an integer query parameter, in the spec's form; the ids filled in need not
 * exist, as the query is read before the object is looked up.
 */
const LISTS: List[] = [
  { path: '/files' },
  { path: '/batches' },
  { path: '/assistants', version: 'v2' },
  { path: '/assistants', version: 'v1' },
  { path: '/assistants/{assistant_id}/files', version: 'v1' },
  { path: '/threads/{thread_id}/messages', version: 'v2' },
  { path: '/threads/{thread_id}/messages', version: 'v1' },
  { path: '/threads/{thread_id}/messages/{message_id}/files', version: 'v1' },
  { path: '/threads/{thread_id}/runs', version: 'v2' },
  { path: '/threads/{thread_id}/runs', version: 'v1' },
  { path: '/threads/{thread_id}/runs/{run_id}/steps', version: 'v2' },
  { path: '/threads/{thread_id}/runs/{run_id}/steps', version: 'v1' },
  { path: '/vector_stores' },
  { path: '/vector_stores/{vector_store_id}/files' },
  { path: '/vector_stores/{vector_store_id}/file_batches/{batch_id}/files' },
  { path: '/fine_tuning/jobs' },
  { path: '/fine_tuning/jobs/{fine_tuning_job_id}/events' },
  { path: '/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints' },
  { path: '/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions', admin: true },
  { path: '/chat/completions' },
  { path: '/chat/completions/{completion_id}/messages' },
  { path: '/responses/{response_id}/input_items' },
  { path: '/evals' },
  { path: '/evals/{eval_id}/runs' },
  { path: '/evals/{eval_id}/runs/{run_id}/output_items' },
  // SDK 6's retrieve({ stream: true, starting_after })
  { path: '/responses/{response_id}', param: 'starting_after' },
]

const MADE_UP: Record<string, string> = {
  assistant_id: 'asst_x',
  thread_id: 'thread_x',
  message_id: 'msg_x',
  run_id: 'run_x',
  vector_store_id: 'vs_x',
  batch_id: 'vsfb_x',
  fine_tuning_job_id: 'ftjob-x',
  fine_tuned_model_checkpoint: 'ft:gpt-4o-mini:org:x:ckpt-step-1',
  completion_id: 'chatcmpl-x',
  response_id: 'resp_x',
  eval_id: 'eval_x',
}

/** The path with made-up ids. */
const filled = (path: string) => path.replace(/\{([^}]+)\}/g, (_, name: string) => MADE_UP[name])

const invalidType = (param: string, got: string) => ({
  message: `Invalid type for '${param}': expected an integer, but got ${got} instead.`,
  type: 'invalid_request_error',
  param,
  code: 'invalid_type',
})

async function get(list: List, query: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${list.admin ? ADMIN_KEY : PROJECT_KEY}` }
  if (list.version) headers['openai-beta'] = `assistants=${list.version}`
  const response = await t.fetch(`http://plinth.test/v1${filled(list.path)}?${query}`, { headers })
  return { status: response.status, body: (await response.json()) as any }
}

describe('integer query parameters of the project API', () => {
  it('a word, an empty value, a fraction or an exponent is a type error naming an integer', async () => {
    for (const list of LISTS) {
      const param = list.param ?? 'limit'
      for (const [value, got] of [
        ['abc', 'a string'],
        ['', 'a string'],
        ['1e1', 'a string'],
        ['0x10', 'a string'],
        ['1.5', 'a decimal'],
      ]) {
        const answer = await get(list, `${param}=${encodeURIComponent(value)}`)
        expect([list.path, list.version, value, answer.status, answer.body.error]).toEqual([list.path, list.version, value, 400, invalidType(param, got)])
      }
    }
  })

  it('a number in range still reads as one (the list, or the 404 of a made-up id)', async () => {
    for (const list of LISTS) {
      const answer = await get(list, `${list.param ?? 'limit'}=2`)
      expect([200, 404], `${list.path} ${JSON.stringify(answer.body)}`).toContain(answer.status)
    }
  })

  it('limit out of range keeps its range message', async () => {
    const answer = await get({ path: '/files' }, 'limit=0')
    expect(answer.body.error).toMatchObject({ param: 'limit', code: 'integer_below_min_value' })
    const over = await get({ path: '/batches' }, 'limit=101')
    expect(over.body.error).toMatchObject({ param: 'limit', code: 'integer_above_max_value' })
  })

  it('covers every project operation whose spec declares an integer limit', () => {
    const covered = new Set(LISTS.map((l) => l.path))
    const docs = { v2: readSpecDocument('v2'), v1: readSpecDocument('v1') }
    let checked = 0
    for (const route of apiRoutes(t.ctx)) {
      if (route.method !== 'GET') continue
      const op = docs.v2.operations[route.operationId] ?? docs.v1.operations[route.operationId]
      if (!op?.parameters.some((p) => p.in === 'query' && p.name === 'limit') || route.path.startsWith('/organization/')) continue
      expect(covered, route.path).toContain(route.path)
      checked++
    }
    expect(checked).toBeGreaterThan(15)
  })
})
