import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRoutes, notImplementedRoutes } from '../../src/api/index.js'
import type { RouteDef } from '../../src/http/routes.js'
import { readOperations, readV1Operations } from '../helpers/spec-files.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let served: RouteDef[]
let unserved: RouteDef[]
beforeAll(async () => {
  t = await createTestApp()
  served = apiRoutes(t.ctx)
  unserved = notImplementedRoutes()
})
afterAll(async () => t.close())

const specOps = [...readOperations(), ...readV1Operations()]
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`
const specIds = new Map(specOps.map((o) => [key(o), o.operationId]))

describe('route coverage against the OpenAI spec', () => {
  it('knows all 148 + 6 operations', () => {
    expect(specOps).toHaveLength(154)
  })

  it('gives every route the (method, path, operationId) of a spec operation, unless it is an extension', () => {
    const wrong = [...served, ...unserved]
      .filter((r) => !r.extension && specIds.get(key(r)) !== r.operationId)
      .map(
        (r) => `${key(r)} ${r.operationId} (spec: ${specIds.get(key(r)) ?? 'no such operation'})`,
      )
    expect(wrong).toEqual([])
  })

  it('keeps extensions off the spec paths', () => {
    const clashing = served.filter((r) => r.extension && specIds.has(key(r))).map(key)
    expect(clashing).toEqual([])
  })

  it('serves or lists as NOT_IMPLEMENTED every spec operation, never both', () => {
    const servedKeys = new Set(served.filter((r) => !r.extension).map(key))
    const unservedKeys = new Set(unserved.map(key))
    const missing = specOps.filter((o) => !servedKeys.has(key(o)) && !unservedKeys.has(key(o)))
    const both = specOps.filter((o) => servedKeys.has(key(o)) && unservedKeys.has(key(o)))
    expect({ missing: missing.map(key), both: both.map(key) }).toEqual({ missing: [], both: [] })
  })

  it('defines no (method, path) twice', () => {
    const seen = new Set<string>()
    const duplicates = [...served, ...unserved].map(key).filter((k) => seen.has(k) || !seen.add(k))
    expect(duplicates).toEqual([])
  })
})

describe('requests Plinth does not serve', () => {
  it('answers 401 before 501: a NOT_IMPLEMENTED route still wants a key', async () => {
    const res = await t.fetch('/v1/fine_tuning/jobs')
    expect(res.status).toBe(401)
  })

  it('answers every NOT_IMPLEMENTED route with 501 not_implemented after authentication', async () => {
    for (const route of unserved) {
      const url = '/v1' + route.path.replace(/\{[^}]+\}/g, 'x_123')
      const keyFor = route.scope === 'admin' ? ADMIN_KEY : PROJECT_KEY
      const init: RequestInit = {
        method: route.method,
        headers: { authorization: `Bearer ${keyFor}` },
      }
      if (route.method === 'POST')
        Object.assign(init.headers!, { 'content-type': 'application/json' })
      if (route.method === 'POST') init.body = '{}'
      const res = await t.fetch(url, init)
      const body = await res.json()
      expect({
        route: key(route),
        status: res.status,
        retry: res.headers.get('x-should-retry'),
      }).toEqual({
        route: key(route),
        status: 501,
        retry: 'false',
      })
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type'])
      expect(body.error).toMatchObject({
        type: 'invalid_request_error',
        param: null,
        code: 'not_implemented',
      })
      expect(body.error.message).toContain(route.operationId)
    }
  })

  it('answers an unknown path with 404 Invalid URL', async () => {
    const res = await t.fetch('/v1/nope', { headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: {
        message: 'Invalid URL (GET /v1/nope)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
  })
})
