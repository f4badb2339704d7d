import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRoutes, notImplementedRoutes } from '../../src/api/index.js'
import type { RouteDef } from '../../src/http/routes.js'
import { pathShape, readSdkOperations } from '../helpers/sdk-operations.js'
import { readOperations, readV1Operations } from '../helpers/spec-files.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// What the official SDK calls beyond the spec file: each must be served, or answer 501 naming the
// SDK's call (SDK_NOT_IMPLEMENTED). An SDK upgrade that adds an operation fails here until it is
// listed or built.
let t: TestApp
let served: RouteDef[]
let unserved: RouteDef[]
beforeAll(async () => {
  t = await createTestApp()
  served = apiRoutes(t.ctx)
  unserved = notImplementedRoutes()
})
afterAll(async () => t.close())

const shape = (r: { method: string; path: string }) => `${r.method} ${pathShape(r.path)}`
const spec = new Set([...readOperations(), ...readV1Operations()].map(shape))
const beyond = readSdkOperations().filter((op) => !spec.has(shape(op)))

describe("the SDK's operations beyond the spec file", () => {
  it('reads them from the SDK (newer than the spec: Conversations, Containers, Videos...)', () => {
    expect(beyond.length).toBeGreaterThan(100)
    expect(beyond.map(shape)).toContain('POST /conversations')
    expect(beyond.map(shape)).toContain('POST /fine_tuning/jobs/{}/pause')
  })

  it('serves each or answers it with 501, never both', () => {
    const servedShapes = new Set(served.map(shape))
    const unservedShapes = new Set(unserved.filter((r) => r.extension).map(shape))
    const neither = beyond.filter((op) => !servedShapes.has(shape(op)) && !unservedShapes.has(shape(op)))
    const both = beyond.filter((op) => servedShapes.has(shape(op)) && unservedShapes.has(shape(op)))
    expect({ neither: neither.map((op) => `${shape(op)} (${op.name})`), both: both.map(shape) }).toEqual({ neither: [], both: [] })
  })

  it('lists no operation the SDK does not have', () => {
    const known = new Set(beyond.map(shape))
    expect(unserved.filter((r) => r.extension && !known.has(shape(r))).map(shape)).toEqual([])
  })

  it('answers an unserved one through the SDK as OpenAI answers what it does not serve: 501 not_implemented, naming the call', async () => {
    const client = t.client()
    const error = await client.videos.create({ prompt: 'a cat', model: 'sora-2' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(501)
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'invalid_request_error', code: 'not_implemented', param: null })
    expect((error as Error).message).toContain('client.videos.create')
  })

  it('wants a key first, and an admin key for the organization', async () => {
    expect((await t.fetch('/v1/videos')).status).toBe(401)
    const asProject = await t.fetch('/v1/organization/groups', { headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(asProject.status).toBe(401)
    const asAdmin = await t.fetch('/v1/organization/groups', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(asAdmin.status).toBe(501)
  })
})
