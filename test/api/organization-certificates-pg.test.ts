import { afterAll, beforeAll, expect, it } from 'vitest'
import { adminClient, hi } from '../helpers/admin.js'
import { CERT_A, CERT_B } from '../helpers/certificates.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// The Certificates API on PostgreSQL, with two nodes on one schema: what node A activates,
// node B enforces (mutual TLS configured on both) once the change feed tells it.

const HEADER = 'x-ssl-client-cert'

describePg('certificates on PostgreSQL, two nodes', () => {
  let schema: PgSchema
  let a: TestApp
  let b: TestApp
  beforeAll(async () => {
    schema = withPgSchema('certificates')
    const config = { server: { clientCertificateHeader: HEADER } }
    a = await createTestApp(config, { storage: schema.config })
    b = await createTestApp(config, { storage: schema.config })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await schema?.drop()
  })

  /** Node B's answer to a project key's chat completion, with the certificate or none. */
  const chatOnB = async (pem?: string) => {
    const headers = pem ? { [HEADER]: encodeURIComponent(pem) } : {}
    return b
      .client(PROJECT_KEY, { defaultHeaders: headers })
      .chat.completions.create(hi)
      .then(() => 200, (e) => e.status)
  }
  const until = async (check: () => Promise<boolean>) => {
    const t0 = Date.now()
    while (!(await check())) {
      if (Date.now() - t0 > 3000) throw new Error('not seen within 3 s')
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  it('upload, list, activate per project (enforced on the other node), deactivate, delete, audit', async () => {
    const admin = adminClient(a).admin.organization
    const projectId = a.ctx.bootstrap.created?.project.id ?? (await admin.projects.list()).data[0].id
    const certA = await admin.certificates.create({ certificate: CERT_A.pem, name: 'A' })
    const certB = await admin.certificates.create({ certificate: CERT_B.pem })
    expect(certA.certificate_details).toEqual({ valid_at: CERT_A.valid_at, expires_at: CERT_A.expires_at })
    const got = await adminClient(b).admin.organization.certificates.retrieve(certB.id, { include: ['content'] })
    expect([got.name, got.certificate_details.content]).toEqual([null, CERT_B.pem])
    expect((await admin.certificates.list()).data.map((c) => c.id)).toEqual([certB.id, certA.id])

    expect(await chatOnB()).toBe(200)
    await admin.projects.certificates.activate(projectId, { certificate_ids: [certB.id] })
    const listed = await adminClient(b).admin.organization.projects.certificates.list(projectId, { order: 'asc' })
    expect(listed.data.map((c) => [c.id, c.active])).toEqual([[certA.id, false], [certB.id, true]])
    await until(async () => (await chatOnB()) === 401)
    expect(await chatOnB(CERT_A.pem)).toBe(403)
    expect(await chatOnB(CERT_B.pem)).toBe(200)

    expect(await admin.certificates.delete(certB.id).catch((e) => e.status)).toBe(400)
    await admin.projects.certificates.deactivate(projectId, { certificate_ids: [certB.id] })
    await until(async () => (await chatOnB()) === 200)
    expect(await admin.certificates.delete(certB.id)).toEqual({ object: 'certificate.deleted', id: certB.id })

    const types = ['certificate.created', 'certificate.deleted', 'certificates.activated', 'certificates.deactivated'] as const
    const logs = await adminClient(b).admin.organization.auditLogs.list({ event_types: [...types] })
    expect(logs.data.map((l) => l.type)).toEqual([
      'certificate.deleted',
      'certificates.deactivated',
      'certificates.activated',
      'certificate.created',
      'certificate.created',
    ])
  })
})
