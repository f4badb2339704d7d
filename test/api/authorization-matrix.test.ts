import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRoutes, notImplementedRoutes } from '../../src/api/index.js'
import type { RouteDef } from '../../src/http/routes.js'
import { adminClient, hi, newProjectKey, raw } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// For every route the API mounts (new routes join automatically) and every kind of caller, the
// answer's class: refused (401 or 403, which one) or let through (anything else: the handler ran,
// and its 2xx, 400, 404 or 501 is its own business). Then: project B never sees project A's
// objects, whatever the route.

let t: TestApp
let routes: RouteDef[]
const keys: Record<string, string | undefined> = {}
beforeAll(async () => {
  t = await createTestApp()
  routes = [...apiRoutes(t.ctx), ...notImplementedRoutes()]
  const admin = adminClient(t)
  const projectA = t.ctx.bootstrap.created!.project.id
  const projectB = (await admin.admin.organization.projects.create({ name: 'B' })).id
  const archived = (await admin.admin.organization.projects.create({ name: 'Archived' })).id
  const archivedKey = await newProjectKey(t, archived)
  await admin.admin.organization.projects.archive(archived)
  const invite = (await admin.admin.organization.invites.create({
    email: 'reader@example.com',
    role: 'reader',
  })) as any
  const accepted = await raw(t, 'POST', `/organization/invites/${invite.id}/accept`, undefined, {
    token: invite.accept_token,
  })
  Object.assign(keys, {
    none: undefined,
    admin: ADMIN_KEY,
    reader: accepted.body.admin_api_key.value,
    project: PROJECT_KEY,
    otherProject: await newProjectKey(t, projectB),
    readOnly: await newProjectKey(t, projectA, { mode: 'read_only' }),
    restricted: await newProjectKey(t, projectA, { mode: 'restricted', scopes: RESTRICTED }),
    archived: archivedKey,
  })
})
afterAll(async () => t.close())

type Caller =
  'none' | 'admin' | 'reader' | 'project' | 'otherProject' | 'readOnly' | 'restricted' | 'archived'
type Expected = 401 | 403 | 'allowed'

const RESTRICTED = { models: 'read', files: 'write', chat: 'read' } as const

/** The resource a route belongs to, written out here independently of src/http/permissions.ts. */
function resourceOf(path: string): string {
  const first = path.split('/')[1]
  const map: Record<string, string> = {
    completions: 'chat',
    uploads: 'files',
    threads: 'assistants',
  }
  return map[first] ?? first
}

function expected(route: RouteDef, caller: Caller): Expected {
  // an image URL's signature is its credential, whatever key comes with it; the matrix has none
  if (route.path === '/images/content/{image_id}') return 403
  if (route.scope === 'public') return 'allowed'
  if (caller === 'none' || caller === 'archived') return 401
  const write = route.method !== 'GET'
  if (route.scope === 'admin') {
    // a project key lacks the management (or usage) scope: OpenAI's 401 naming it
    if (caller !== 'admin' && caller !== 'reader') return 401
    return caller === 'reader' && write ? 401 : 'allowed'
  }
  if (caller === 'admin' || caller === 'reader') return 403
  if (caller === 'readOnly') return write ? 401 : 'allowed'
  if (caller === 'restricted') {
    const granted = (RESTRICTED as Record<string, string>)[resourceOf(route.path)]
    return granted === 'write' || (granted === 'read' && !write) ? 'allowed' : 401
  }
  return 'allowed'
}

function request(route: RouteDef, key: string | undefined, ids: Record<string, string> = {}) {
  const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => ids[name] ?? 'x_123')
  return raw(t, route.method, path, key, route.method === 'POST' ? {} : undefined)
}

describe('authorization matrix', () => {
  const callers: Caller[] = [
    'none',
    'admin',
    'reader',
    'project',
    'otherProject',
    'readOnly',
    'restricted',
    'archived',
  ]

  it('covers every mounted route: admin, project and public ones', () => {
    expect(routes.length).toBeGreaterThan(100)
    expect(routes.some((r) => r.scope === 'admin')).toBe(true)
    expect(routes.some((r) => r.scope === 'public')).toBe(true)
  })

  for (const caller of callers) {
    it(`every route answers the ${caller} caller as it should`, async () => {
      const wrong: string[] = []
      for (const route of routes) {
        const want = expected(route, caller)
        const { status, body } = await request(route, keys[caller])
        const got = status === 401 || status === 403 ? status : 'allowed'
        if (got !== want)
          wrong.push(
            `${route.method} ${route.path}: expected ${want}, got ${status} ${JSON.stringify(body).slice(0, 160)}`,
          )
        // refusals are OpenAI-shaped errors
        if (got !== 'allowed')
          expect(Object.keys(body.error)).toEqual(['message', 'type', 'param', 'code'])
      }
      expect(wrong).toEqual([])
    })
  }
})

describe('project isolation', () => {
  it("project B reaches none of project A's objects, by any route", async () => {
    const a = t.client(PROJECT_KEY)
    const file = await a.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), 'a.jsonl'),
      purpose: 'batch',
    })
    const line = JSON.stringify({
      custom_id: '1',
      method: 'POST',
      url: '/v1/chat/completions',
      body: hi,
    })
    const input = await a.files.create({
      file: await toFile(Buffer.from(line + '\n'), 'in.jsonl'),
      purpose: 'batch',
    })
    const batch = await a.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    const completion = await a.chat.completions.create({ ...hi, store: true })
    const upload = await a.uploads.create({
      filename: 'u.txt',
      purpose: 'assistants',
      bytes: 3,
      mime_type: 'text/plain',
    })
    const evaluation = await a.evals.create({
      data_source_config: { type: 'custom', item_schema: { type: 'object' } },
      testing_criteria: [{ type: 'string_check', name: 's', input: 'a', reference: 'a', operation: 'eq' }],
    })
    const evalRun = await a.evals.runs.create(evaluation.id, {
      data_source: { type: 'jsonl', source: { type: 'file_content', content: [{ item: {} }] } },
    })
    const ids: Record<string, string> = {
      file_id: file.id,
      batch_id: batch.id,
      completion_id: completion.id,
      upload_id: upload.id,
      eval_id: evaluation.id,
      run_id: evalRun.id,
    }
    const secrets = Object.values(ids)
    const b = keys.otherProject!
    const leaks: string[] = []
    for (const route of routes.filter((r) => r.scope === 'project')) {
      const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      if (names.length === 0) {
        // lists and creations of B: nothing of A's in them
        if (route.method !== 'GET') continue
        const { status, body } = await request(route, b)
        const text = JSON.stringify(body)
        for (const id of secrets)
          if (status < 300 && text.includes(id))
            leaks.push(`${route.method} ${route.path} lists ${id}`)
        continue
      }
      if (!names.some((n) => n in ids)) continue
      const { status, body } = await request(route, b, ids)
      if (status < 400)
        leaks.push(`${route.method} ${route.path}: ${status} ${JSON.stringify(body).slice(0, 160)}`)
      // reading one of A's objects by id is a plain 404, as for an id that never existed
      if (route.method === 'GET' && names.every((n) => n in ids) && status !== 404)
        leaks.push(`${route.method} ${route.path}: ${status}, not 404`)
    }
    expect(leaks).toEqual([])
    // and A still sees them all
    expect((await a.files.retrieve(file.id)).id).toBe(file.id)
    expect((await a.chat.completions.retrieve(completion.id)).id).toBe(completion.id)
    expect((await a.batches.retrieve(batch.id)).id).toBe(batch.id)
    expect((await a.evals.runs.retrieve(evalRun.id, { eval_id: evaluation.id })).id).toBe(evalRun.id)
  })

  it("project B's key cannot read A's usage, keys or members: the Administration API is closed to project keys", async () => {
    const b = t.client(keys.otherProject!)
    for (const path of [
      '/organization/usage/completions?start_time=0',
      '/organization/projects',
      '/organization/audit_logs',
    ]) {
      expect((await raw(t, 'GET', path, keys.otherProject)).status, path).toBe(401)
    }
    expect((await b.models.list()).data.length).toBeGreaterThan(0)
  })
})
