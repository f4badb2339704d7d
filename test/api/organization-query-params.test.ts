import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// Query strings carry text: an integer parameter given a word or a fraction is OpenAI's C9
// `Invalid type for '<param>': expected an integer, but got a string instead.`, on every list and
// report of the Administration API (zod's coerce once answered "expected a decimal, but got a
// decimal instead").

let t: TestApp
let projectId: string
beforeAll(async () => {
  t = await createTestApp()
  projectId = t.ctx.bootstrap.created!.project.id
})
afterAll(async () => t.close())

const invalidType = (param: string, got: string) => ({
  message: `Invalid type for '${param}': expected an integer, but got ${got} instead.`,
  type: 'invalid_request_error',
  param,
  code: 'invalid_type',
})

describe('integer query parameters of the Administration API', () => {
  const lists = [
    '/organization/users',
    '/organization/invites',
    '/organization/projects',
    '/organization/admin_api_keys',
    '/organization/audit_logs',
    '/organization/projects/{p}/users',
    '/organization/projects/{p}/service_accounts',
    '/organization/projects/{p}/api_keys',
    '/organization/projects/{p}/rate_limits',
    '/organization/usage/completions?start_time=0',
    '/organization/usage/vector_stores?start_time=0',
    '/organization/costs?start_time=0',
  ]

  it('limit: a word or a fraction is a type error naming an integer', async () => {
    for (const list of lists) {
      const path = list.replace('{p}', projectId)
      const join = path.includes('?') ? '&' : '?'
      for (const [value, got] of [
        ['abc', 'a string'],
        ['', 'a string'],
        ['2.5', 'a decimal'],
      ]) {
        const answer = await raw(t, 'GET', `${path}${join}limit=${value}`, ADMIN_KEY)
        expect([path, value, answer.status, answer.body.error]).toEqual([
          path,
          value,
          400,
          invalidType('limit', got),
        ])
      }
      // and a number still reads as one
      expect((await raw(t, 'GET', `${path}${join}limit=2`, ADMIN_KEY)).status, path).toBe(200)
    }
  })

  it('audit log effective_at and usage times: the same', async () => {
    const audit = await raw(t, 'GET', '/organization/audit_logs?effective_at[gte]=yesterday', ADMIN_KEY)
    expect(audit.body.error).toEqual(invalidType('effective_at.gte', 'a string'))
    const usage = await raw(t, 'GET', '/organization/usage/embeddings?start_time=today', ADMIN_KEY)
    expect(usage.body.error).toEqual(invalidType('start_time', 'a string'))
    const costs = await raw(t, 'GET', '/organization/costs?start_time=0&end_time=later', ADMIN_KEY)
    expect(costs.body.error).toEqual(invalidType('end_time', 'a string'))
    const ok = await raw(t, 'GET', '/organization/audit_logs?effective_at[gte]=0&limit=1', ADMIN_KEY)
    expect(ok.status).toBe(200)
  })
})
