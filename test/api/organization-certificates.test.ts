import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, raw } from '../helpers/admin.js'
import { CERT_A, CERT_B } from '../helpers/certificates.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let admin: OpenAI
let certs: OpenAI['admin']['organization']['certificates']
let projectId: string
beforeAll(async () => {
  t = await createTestApp()
  admin = adminClient(t)
  certs = admin.admin.organization.certificates
  projectId = t.ctx.bootstrap.created!.project.id
})
afterAll(async () => t.close())

const details = (c: { valid_at: number; expires_at: number }) => ({
  valid_at: c.valid_at,
  expires_at: c.expires_at,
})

/** Deactivates the certificate everywhere and deletes it, so each test starts with none. */
async function remove(id: string) {
  await certs.deactivate({ certificate_ids: [id] })
  await admin.admin.organization.projects.certificates.deactivate(projectId, { certificate_ids: [id] })
  await certs.delete(id)
}

describe('certificates', () => {
  it('upload parses the PEM; get shows the content only with include=content', async () => {
    const uploaded = await certs.create({ certificate: CERT_A.pem, name: 'Client A' })
    expect(uploaded).toEqual({
      object: 'certificate',
      id: expect.stringMatching(/^cert_/),
      name: 'Client A',
      created_at: expect.any(Number),
      certificate_details: details(CERT_A),
    })
    expect(await certs.retrieve(uploaded.id)).toEqual(uploaded)
    const withContent = await certs.retrieve(uploaded.id, { include: ['content'] })
    expect(withContent.certificate_details).toEqual({ ...details(CERT_A), content: CERT_A.pem })
    // the spec's own query form
    const asked = await raw(t, 'GET', `/organization/certificates/${uploaded.id}?include[]=content`, ADMIN_KEY)
    expect(asked.body.certificate_details.content).toBe(CERT_A.pem)
    await remove(uploaded.id)
  })

  it("takes the spec's `content` field, and PEM with missing or escaped line breaks", async () => {
    const flat = CERT_B.pem.replace(/\n/g, '')
    const escaped = CERT_B.pem.replace(/\n/g, '\\n')
    for (const body of [{ content: CERT_B.pem, name: 'B' }, { certificate: flat, name: 'B' }, { certificate: escaped, name: 'B' }]) {
      const answer = await raw(t, 'POST', '/organization/certificates', ADMIN_KEY, body)
      expect(answer.status).toBe(200)
      expect(answer.body.certificate_details).toEqual(details(CERT_B))
      const got = await certs.retrieve(answer.body.id, { include: ['content'] })
      expect(got.certificate_details.content).toBe(CERT_B.pem)
      await remove(answer.body.id)
    }
  })

  it('a private key sent along is not stored', async () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n'
    const uploaded = await certs.create({ certificate: key + CERT_A.pem, name: 'with key' })
    const got = await certs.retrieve(uploaded.id, { include: ['content'] })
    expect(got.certificate_details.content).toBe(CERT_A.pem)
    await remove(uploaded.id)
  })

  it('an unnamed certificate has a null name; its audit events have no name', async () => {
    const uploaded = await certs.create({ certificate: CERT_A.pem })
    expect(uploaded.name).toBeNull()
    const logs = await admin.admin.organization.auditLogs.list({ resource_ids: [uploaded.id] })
    expect(logs.data.map((l: any) => [l.type, l[l.type]])).toEqual([['certificate.created', { id: uploaded.id }]])
    await remove(uploaded.id)
  })

  it('bad PEM is a 400 naming the problem; a missing certificate is a 400', async () => {
    const cases: [unknown, RegExp][] = [
      [{ certificate: 'hello' }, /^Invalid certificate: no -----BEGIN CERTIFICATE----- block found\./],
      [{ certificate: '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----' }, /the PEM body is not base64/],
      [{ certificate: '-----BEGIN CERTIFICATE-----\nQUJDRA==\n-----END CERTIFICATE-----' }, /not a valid X\.509 certificate/],
      [{ certificate: CERT_A.pem + CERT_B.pem }, /found 2 certificates where one was expected/],
    ]
    for (const [body, message] of cases) {
      const answer = await raw(t, 'POST', '/organization/certificates', ADMIN_KEY, body)
      expect(answer.status).toBe(400)
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', param: 'certificate' })
      expect(answer.body.error.message).toMatch(message)
    }
    const missing = await raw(t, 'POST', '/organization/certificates', ADMIN_KEY, { name: 'x' })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe("Missing required parameter: 'certificate'.")
    const unknown = await raw(t, 'POST', '/organization/certificates', ADMIN_KEY, { certificate: CERT_A.pem, x: 1 })
    expect(unknown.status).toBe(400)
    // megabytes of BEGIN lines with no END: refused by length before any pattern looks at them
    const huge = await raw(t, 'POST', '/organization/certificates', ADMIN_KEY, { certificate: '-----BEGIN CERTIFICATE-----'.repeat(100_000) })
    expect(huge.status).toBe(400)
    expect(huge.body.error).toMatchObject({ type: 'invalid_request_error', param: 'certificate' })
    expect((await certs.list()).data).toEqual([])
  })

  it('modify renames; delete answers certificate.deleted; unknown ids are 404', async () => {
    const uploaded = await certs.create({ certificate: CERT_A.pem, name: 'old' })
    const renamed = await certs.update(uploaded.id, { name: 'new' })
    expect(renamed).toEqual({ ...uploaded, name: 'new' })
    expect((await certs.retrieve(uploaded.id)).name).toBe('new')
    expect(await certs.delete(uploaded.id)).toEqual({ object: 'certificate.deleted', id: uploaded.id })
    for (const call of [
      () => certs.retrieve(uploaded.id),
      () => certs.update(uploaded.id, { name: 'x' }),
      () => certs.delete(uploaded.id),
      () => certs.activate({ certificate_ids: [uploaded.id] }),
      () => admin.admin.organization.projects.certificates.activate(projectId, { certificate_ids: [uploaded.id] }),
    ]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error.message).toBe(`No certificate found with id '${uploaded.id}'.`)
    }
    const noProject = await admin.admin.organization.projects.certificates.list('proj_nope').catch((e) => e)
    expect(noProject).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('list: newest first by default, asc on request, pages with after', async () => {
    const ids: string[] = []
    for (const name of ['c1', 'c2', 'c3']) ids.push((await certs.create({ certificate: CERT_A.pem, name })).id)
    const desc = (await certs.list()).data
    expect(desc.map((c) => c.id)).toEqual([...ids].reverse())
    expect(desc[0]).toEqual({
      object: 'organization.certificate',
      id: ids[2],
      name: 'c3',
      active: false,
      created_at: expect.any(Number),
      certificate_details: details(CERT_A),
    })
    expect((await certs.list({ order: 'asc' })).data.map((c) => c.id)).toEqual(ids)
    const first = await certs.list({ limit: 2 })
    expect([first.data.length, first.has_more, first.last_id]).toEqual([2, true, ids[1]])
    const paged: string[] = []
    for await (const c of certs.list({ limit: 1, order: 'asc' })) paged.push(c.id)
    expect(paged).toEqual(ids)
    const after = await raw(t, 'GET', `/organization/certificates?after=${ids[2]}&limit=1`, ADMIN_KEY)
    expect(after.body).toMatchObject({ object: 'list', data: [{ id: ids[1] }], has_more: true })
    for (const id of ids) await remove(id)
  })

  it('activate and deactivate for the organization: all or none, idempotent; active ones cannot be deleted', async () => {
    const a = await certs.create({ certificate: CERT_A.pem, name: 'A' })
    const b = await certs.create({ certificate: CERT_B.pem, name: 'B' })
    const activated = await raw(t, 'POST', '/organization/certificates/activate', ADMIN_KEY, {
      certificate_ids: [a.id, b.id, a.id],
    })
    expect(activated.status).toBe(200)
    expect(activated.body).toEqual({
      object: 'list',
      first_id: a.id,
      last_id: b.id,
      data: [
        { object: 'organization.certificate', id: a.id, name: 'A', active: true, created_at: a.created_at, certificate_details: details(CERT_A) },
        { object: 'organization.certificate', id: b.id, name: 'B', active: true, created_at: b.created_at, certificate_details: details(CERT_B) },
      ],
      has_more: false,
    })
    // the SDK's page over the answer
    const again = []
    for await (const c of certs.activate({ certificate_ids: [a.id] })) again.push(c)
    expect(again.map((c) => [c.id, c.active])).toEqual([[a.id, true]])
    expect((await certs.list()).data.map((c) => c.active)).toEqual([true, true])
    // an unknown id among them changes nothing
    const error = await certs.deactivate({ certificate_ids: [a.id, 'cert_nope'] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect((await certs.list()).data.map((c) => c.active)).toEqual([true, true])
    // active: not deletable
    const refused = await certs.delete(a.id).catch((e) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused.error.message).toMatch(/^Certificate cert_\w+ is still active\./)
    const off = await raw(t, 'POST', '/organization/certificates/deactivate', ADMIN_KEY, { certificate_ids: [a.id] })
    expect(off.body.object).toBe('list')
    expect(off.body.data.map((c: any) => [c.id, c.active])).toEqual([[a.id, false]])
    expect((await certs.list({ order: 'asc' })).data.map((c) => c.active)).toEqual([false, true])
    await remove(a.id)
    await remove(b.id)
  })

  it('per project: the list shows activation at the project scope; archived projects refuse changes', async () => {
    const projectCerts = admin.admin.organization.projects.certificates
    const a = await certs.create({ certificate: CERT_A.pem, name: 'A' })
    const b = await certs.create({ certificate: CERT_B.pem, name: 'B' })
    const on = await raw(t, 'POST', `/organization/projects/${projectId}/certificates/activate`, ADMIN_KEY, {
      certificate_ids: [a.id],
    })
    expect(on.body).toEqual({
      object: 'list',
      first_id: a.id,
      last_id: a.id,
      data: [{ object: 'organization.project.certificate', id: a.id, name: 'A', active: true, created_at: a.created_at, certificate_details: details(CERT_A) }],
      has_more: false,
    })
    const listed = await projectCerts.list(projectId, { order: 'asc' })
    expect(listed.data.map((c) => [c.object, c.id, c.active])).toEqual([
      ['organization.project.certificate', a.id, true],
      ['organization.project.certificate', b.id, false],
    ])
    // the organization's own scope is separate
    expect((await certs.list({ order: 'asc' })).data.map((c) => c.active)).toEqual([false, false])
    const other = await admin.admin.organization.projects.create({ name: 'other' })
    expect((await projectCerts.list(other.id)).data.map((c) => c.active)).toEqual([false, false])
    // active in a project: not deletable
    expect(await certs.delete(a.id).catch((e) => e.status)).toBe(400)
    const off = await raw(t, 'POST', `/organization/projects/${projectId}/certificates/deactivate`, ADMIN_KEY, {
      certificate_ids: [a.id],
    })
    expect(off.body.object).toBe('list')
    expect(off.body.data[0].active).toBe(false)
    expect((await projectCerts.list(projectId)).data.map((c) => c.active)).toEqual([false, false])
    await projectCerts.activate(other.id, { certificate_ids: [b.id] })
    await admin.admin.organization.projects.archive(other.id)
    const archived = await projectCerts.activate(other.id, { certificate_ids: [a.id] }).catch((e) => e)
    expect(archived).toBeInstanceOf(OpenAI.BadRequestError)
    expect(archived.error.code).toBe('project_archived')
    // still listed, and deactivated, so that the certificate can be deleted
    expect((await projectCerts.list(other.id, { order: 'asc' })).data.map((c) => c.active)).toEqual([false, true])
    expect(await certs.delete(b.id).catch((e) => e.status)).toBe(400)
    await projectCerts.deactivate(other.id, { certificate_ids: [b.id] })
    await remove(a.id)
    await remove(b.id)
  })

  it('toggle bodies: 1 to 10 ids', async () => {
    for (const body of [{}, { certificate_ids: [] }, { certificate_ids: Array(11).fill('cert_x') }, { data: ['cert_x'] }]) {
      const answer = await raw(t, 'POST', '/organization/certificates/activate', ADMIN_KEY, body)
      expect(answer.status).toBe(400)
      expect(answer.body.error.type).toBe('invalid_request_error')
    }
  })

  it('every change is in the audit log', async () => {
    const a = await certs.create({ certificate: CERT_A.pem, name: 'audited' })
    await certs.update(a.id, { name: 'renamed' })
    await certs.activate({ certificate_ids: [a.id] })
    await certs.deactivate({ certificate_ids: [a.id] })
    await admin.admin.organization.projects.certificates.activate(projectId, { certificate_ids: [a.id] })
    await admin.admin.organization.projects.certificates.deactivate(projectId, { certificate_ids: [a.id] })
    await certs.delete(a.id)
    const types = ['certificate.created', 'certificate.updated', 'certificate.deleted', 'certificates.activated', 'certificates.deactivated'] as const
    const logs = (await admin.admin.organization.auditLogs.list({ event_types: [...types], limit: 100 })).data.reverse()
    const mine = logs.filter((l: any) => JSON.stringify(l).includes(a.id))
    expect(mine.map((l: any) => [l.type, l.project?.id ?? null, l[l.type]])).toEqual([
      ['certificate.created', null, { id: a.id, name: 'audited' }],
      ['certificate.updated', null, { id: a.id, name: 'renamed' }],
      ['certificates.activated', null, { certificates: [{ id: a.id, name: 'renamed' }] }],
      ['certificates.deactivated', null, { certificates: [{ id: a.id, name: 'renamed' }] }],
      ['certificates.activated', projectId, { certificates: [{ id: a.id, name: 'renamed' }] }],
      ['certificates.deactivated', projectId, { certificates: [{ id: a.id, name: 'renamed' }] }],
      ['certificate.deleted', null, { id: a.id, name: 'renamed', certificate: CERT_A.pem }],
    ])
    expect(mine[0]!.actor!.type).toBe('api_key')
  })

  it('organizations can upload up to 50 certificates', async () => {
    const ids: string[] = []
    for (let i = 0; i < 50; i++) ids.push((await certs.create({ certificate: CERT_A.pem, name: `n${i}` })).id)
    const refused = await certs.create({ certificate: CERT_A.pem }).catch((e) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused.error.message).toMatch(/^Organizations can upload up to 50 certificates\./)
    await certs.delete(ids[0])
    ids[0] = (await certs.create({ certificate: CERT_A.pem, name: 'again' })).id
    for (const id of ids) await certs.delete(id)
  })
})

describe('certificates: who may call', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/organization/certificates'],
    ['POST', '/organization/certificates', { certificate: CERT_A.pem }],
    ['POST', '/organization/certificates/activate', { certificate_ids: ['cert_x'] }],
    ['POST', '/organization/certificates/deactivate', { certificate_ids: ['cert_x'] }],
    ['GET', '/organization/certificates/cert_x'],
    ['POST', '/organization/certificates/cert_x', { name: 'x' }],
    ['DELETE', '/organization/certificates/cert_x'],
    ['GET', '/organization/projects/proj_x/certificates'],
    ['POST', '/organization/projects/proj_x/certificates/activate', { certificate_ids: ['cert_x'] }],
    ['POST', '/organization/projects/proj_x/certificates/deactivate', { certificate_ids: ['cert_x'] }],
  ]

  it('no key: 401', async () => {
    for (const [method, path, body] of routes) {
      const answer = await raw(t, method, path, undefined, body)
      expect(answer.status, `${method} ${path}`).toBe(401)
    }
  })

  it('a project key: 401 naming the missing management scope', async () => {
    for (const [method, path, body] of routes) {
      const answer = await raw(t, method, path, PROJECT_KEY, body)
      expect(answer.status, `${method} ${path}`).toBe(401)
      const scope = method === 'GET' ? 'api.management.read' : 'api.management.write'
      expect(answer.body.error.message).toContain(`Missing scopes: ${scope}.`)
    }
  })

  it("a reader's admin key reads but does not change", async () => {
    const invite = (await admin.admin.organization.invites.create({ email: 'cert-reader@example.com', role: 'reader' })) as any
    const accepted = await raw(t, 'POST', `/organization/invites/${invite.id}/accept`, undefined, { token: invite.accept_token })
    const reader = accepted.body.admin_api_key.value as string
    const uploaded = await certs.create({ certificate: CERT_A.pem, name: 'r' })
    expect((await raw(t, 'GET', '/organization/certificates', reader)).status).toBe(200)
    expect((await raw(t, 'GET', `/organization/certificates/${uploaded.id}`, reader)).status).toBe(200)
    expect((await raw(t, 'GET', `/organization/projects/${projectId}/certificates`, reader)).status).toBe(200)
    for (const [method, path, body] of routes.filter(([m]) => m !== 'GET')) {
      const answer = await raw(t, method, path, reader, body)
      expect(answer.status, `${method} ${path}`).toBe(401)
      expect(answer.body.error.message).toContain('Missing scopes: api.management.write.')
    }
    await certs.delete(uploaded.id)
  })
})
