import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { newId, nowSeconds } from '../../src/storage/ids.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// where a Plinth key comes from, in place of OpenAI's link to its platform
const KEY_HELP = 'Plinth keys are printed on its first start; make more with `npx plinth keys create` on the server, or in the dashboard (/dashboard).'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

const hi = { model: 'test-echo', messages: [{ role: 'user' as const, content: 'hi' }] }

async function rawChat(headers: Record<string, string>, body: unknown = hi) {
  const response = await t.fetch('http://plinth.test/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as any,
  }
}

describe('authentication', () => {
  it('no key is 401 with the A1 message', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Token abc' },
    ]
    for (const headers of variants) {
      const { status, body } = await rawChat(headers)
      expect(status, JSON.stringify(headers)).toBe(401)
      expect(body.error).toEqual({
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from your Plinth server: " + KEY_HELP,
        type: 'invalid_request_error',
        param: null,
        code: null,
      })
    }
  })

  it('a wrong key is 401 invalid_api_key with the key masked', async () => {
    const key = 'sk-proj-WRONGkeyWRONGkeyWRONGkeyWRONGkeyWRONGkeyWRONG1234'
    const error = await t
      .client(key)
      .chat.completions.create(hi)
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    const masked = 'sk-proj-' + '*'.repeat(key.length - 12) + '1234'
    expect(masked).toHaveLength(key.length)
    expect(error.error).toEqual({
      message: `Incorrect API key provided: ${masked}. You can find your API key at your Plinth server: ${KEY_HELP}`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    })
    expect(error.requestID).toMatch(/^req_[0-9a-f]{32}$/)
    // very short values are echoed as they are
    const short = await rawChat({ authorization: 'Bearer undefined' })
    expect(short.body.error.message).toBe(
      `Incorrect API key provided: undefined. You can find your API key at your Plinth server: ${KEY_HELP}`,
    )
  })

  it('accepts the bearer scheme in any case and with extra spaces', async () => {
    for (const authorization of [`bearer ${PROJECT_KEY}`, `BEARER   ${PROJECT_KEY}  `]) {
      expect((await rawChat({ authorization })).status).toBe(200)
    }
  })

  it('a key of an archived project is refused', async () => {
    const projectId = newId('proj_')
    await createRepos(t.ctx.storage.db).projects.insert({
      id: projectId,
      org_id: t.ctx.organization.id,
      name: 'Archived',
      status: 'archived',
      created_at: nowSeconds(),
      archived_at: nowSeconds(),
    })
    const key = await t.ctx.services.keys.create({
      orgId: t.ctx.organization.id,
      projectId,
      name: 'old',
    })
    const error = await t
      .client(key.secret)
      .chat.completions.create(hi)
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.error.code).toBe('invalid_api_key')
  })
})

describe('key kinds', () => {
  it('an admin key cannot call project endpoints (403)', async () => {
    const admin = t.client(ADMIN_KEY)
    for (const call of [
      () => admin.chat.completions.create(hi),
      () => admin.completions.create({ model: 'test-echo', prompt: 'x' }),
      () => admin.embeddings.create({ model: 'test-embed', input: 'x' }),
      () => admin.models.list(),
      () => admin.chat.completions.list(),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
      expect(error.error.type).toBe('invalid_request_error')
      expect(error.error.code).toBe('insufficient_permissions')
    }
  })

  it('a project key on the Administration API is 401, missing the management or usage scope, as OpenAI answers', async () => {
    for (const [method, path, scope] of [
      ['GET', '/v1/organization/projects', 'api.management.read'],
      ['GET', '/v1/organization/users', 'api.management.read'],
      ['POST', '/v1/organization/admin_api_keys', 'api.management.write'],
      ['GET', '/v1/organization/costs?start_time=1', 'api.usage.read'],
      ['GET', '/v1/organization/usage/completions?start_time=1', 'api.usage.read'],
    ]) {
      const response = await t.fetch(`http://plinth.test${path}`, {
        method,
        headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ name: 'x' }) } : {}),
      })
      const body = (await response.json()) as any
      expect(response.status, path).toBe(401)
      expect(body.error).toEqual({
        message: `You have insufficient permissions for this operation. Missing scopes: ${scope}. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      })
    }
  })
})

describe('OpenAI-Organization and OpenAI-Project headers', () => {
  it('matching headers are accepted', async () => {
    const project = t.ctx.bootstrap.created!.project.id
    const client = t.client(PROJECT_KEY, { organization: t.ctx.organization.id, project })
    const completion = await client.chat.completions.create(hi)
    expect(completion.choices[0].message.content).toBe('hi')
  })

  it('another organization is 401 mismatched_organization (A4)', async () => {
    const error = await t
      .client(PROJECT_KEY, { organization: 'org-someoneelse000000000000' })
      .chat.completions.create(hi)
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.error).toEqual({
      message: 'OpenAI-Organization header should match organization for API key',
      type: 'invalid_request_error',
      param: null,
      code: 'mismatched_organization',
    })
  })

  it('an organization that is no org id is 401 invalid_organization (A5)', async () => {
    const { status, body } = await rawChat({
      authorization: `Bearer ${PROJECT_KEY}`,
      'openai-organization': 'Personal',
    })
    expect(status).toBe(401)
    expect(body.error).toEqual({
      message: 'No such organization: Personal.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_organization',
    })
  })

  it('another project is 401 mismatched_project (A8)', async () => {
    const error = await t
      .client(PROJECT_KEY, { project: 'proj_someoneelse' })
      .chat.completions.create(hi)
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.error).toEqual({
      message: 'OpenAI-Project header should match project for API key',
      type: 'invalid_request_error',
      param: null,
      code: 'mismatched_project',
    })
  })
})

describe('OpenAI-Project with an admin key (organization-level, no project of its own)', () => {
  // SDK 6's one client of both keys (OPENAI_API_KEY, OPENAI_ADMIN_KEY) sends OPENAI_PROJECT_ID as
  // OpenAI-Project on every call, the Administration API's too: A8 compares a key's own project
  const project = () => t.ctx.bootstrap.created!.project.id

  it('is ignored on the Administration API, whatever project it names', async () => {
    for (const named of [project(), 'proj_someoneelse']) {
      const client = t.client(PROJECT_KEY, { adminAPIKey: ADMIN_KEY, project: named })
      const page = await client.admin.organization.projects.list()
      expect(page.data.map((p) => p.id)).toContain(project())
      // and the same client's project key still gets A8 for a project not its own
      if (named !== project()) {
        const error = await client.chat.completions.create(hi).catch((e) => e)
        expect([error.status, error.code]).toEqual([401, 'mismatched_project'])
      } else {
        expect((await client.chat.completions.create(hi)).choices[0].message.content).toBe('hi')
      }
    }
  })

  it('does not change the answer to an admin key on a project route (403, not A8)', async () => {
    for (const path of ['/v1/models', '/v1/chat/completions']) {
      const response = await t.fetch(`http://plinth.test${path}`, {
        method: path === '/v1/models' ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'openai-project': 'proj_someoneelse', 'content-type': 'application/json' },
        body: path === '/v1/models' ? undefined : JSON.stringify(hi),
      })
      const body = (await response.json()) as any
      expect([response.status, body.error.code], path).toEqual([403, 'insufficient_permissions'])
    }
  })
})

describe('response headers', () => {
  function expectDebugHeaders(headers: Headers) {
    expect(headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
    expect(headers.get('openai-version')).toBe('2020-10-01')
    expect(headers.get('openai-processing-ms')).toMatch(/^\d+$/)
    expect(headers.get('openai-organization')).toBe('personal')
  }

  it('every response carries the debugging headers: success, error, stream, unknown route', async () => {
    const key = { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' }
    const requests: [string, RequestInit, number][] = [
      ['/v1/chat/completions', { method: 'POST', headers: key, body: JSON.stringify(hi) }, 200],
      [
        '/v1/chat/completions',
        { method: 'POST', headers: key, body: JSON.stringify({ ...hi, stream: true }) },
        200,
      ],
      [
        '/v1/chat/completions',
        { method: 'POST', headers: key, body: JSON.stringify({ ...hi, model: 'nope' }) },
        404,
      ],
      ['/v1/chat/completions', { method: 'POST', headers: key, body: '{' }, 400],
      ['/v1/chat/completions', { method: 'POST', body: '{}' }, 401],
      ['/v1/models', { headers: { authorization: `Bearer ${ADMIN_KEY}` } }, 403],
      ['/v1/models', { headers: key }, 200],
      [
        '/v1/embeddings',
        { method: 'POST', headers: key, body: JSON.stringify({ model: 'test-embed', input: 'x' }) },
        200,
      ],
      [
        '/v1/completions',
        {
          method: 'POST',
          headers: key,
          body: JSON.stringify({ model: 'test-echo', prompt: 'x', stream: true }),
        },
        200,
      ],
      ['/v1/nope', { headers: key }, 404],
      ['/v1/realtime/sessions', { method: 'POST', headers: key, body: '{}' }, 200],
    ]
    const ids = new Set<string>()
    for (const [path, init, status] of requests) {
      const response = await t.fetch(`http://plinth.test${path}`, init)
      await response.text()
      expect(response.status, path).toBe(status)
      expectDebugHeaders(response.headers)
      ids.add(response.headers.get('x-request-id')!)
    }
    expect(ids.size).toBe(requests.length)
  })

  it('the project id is sent back for project keys', async () => {
    const response = await t.fetch('http://plinth.test/v1/models', {
      headers: { authorization: `Bearer ${PROJECT_KEY}` },
    })
    await response.text()
    expect(response.headers.get('openai-project')).toBe(t.ctx.bootstrap.created!.project.id)
  })

  it('the SDK reads the request id, on answers and on errors', async () => {
    const client = t.client()
    const { request_id, response } = await client.chat.completions.create(hi).withResponse()
    expect(request_id).toBe(response.headers.get('x-request-id'))
    expect(request_id).toMatch(/^req_[0-9a-f]{32}$/)
    const error = await client.models.retrieve('nope').catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error.requestID).toMatch(/^req_[0-9a-f]{32}$/)
    expect(error.requestID).not.toBe(request_id)
    const stream = await client.chat.completions.create({ ...hi, stream: true }).withResponse()
    expect(stream.request_id).toMatch(/^req_[0-9a-f]{32}$/)
    for await (const chunk of stream.data) void chunk
  })

  it('exposes the debugging headers to browsers (CORS)', async () => {
    const response = await t.fetch('http://plinth.test/v1/models', {
      headers: { authorization: `Bearer ${PROJECT_KEY}`, origin: 'https://app.example' },
    })
    await response.text()
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase()).toContain(
      'x-request-id',
    )
  })
})
