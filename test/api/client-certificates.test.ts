import { X509Certificate } from 'node:crypto'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, hi, newProjectKey } from '../helpers/admin.js'
import { CERT_A, CERT_B } from '../helpers/certificates.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Mutual TLS behind a proxy: with server.clientCertificateHeader set, a key whose organization or
// project has active certificates must come with one of them in that header (as nginx forwards
// $ssl_client_escaped_cert). Both the inference fast path and the Hono routes check it.

const HEADER = 'X-SSL-Client-Cert'
const escaped = (pem: string) => encodeURIComponent(pem)
const der = (pem: string) => new X509Certificate(pem).raw.toString('base64')

let t: TestApp
let projectId: string
let certA: string
let certB: string
beforeAll(async () => {
  t = await createTestApp({ server: { clientCertificateHeader: HEADER } })
  projectId = t.ctx.bootstrap.created!.project.id
  const certs = adminClient(t).admin.organization.certificates
  certA = (await certs.create({ certificate: CERT_A.pem, name: 'A' })).id
  certB = (await certs.create({ certificate: CERT_B.pem, name: 'B' })).id
})
afterAll(async () => t.close())

/** A client whose every request carries the certificate (or none). */
function client(key: string, cert?: string, admin = false) {
  const headers = cert === undefined ? {} : { [HEADER]: cert }
  return t.client(key, { defaultHeaders: headers, ...(admin ? { adminAPIKey: key } : {}) })
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e) => (e instanceof OpenAI.APIError ? [e.status, (e.error as any)?.code] : e),
  )

describe('client certificates, enforced', () => {
  it('nothing is required while no certificate is active', async () => {
    expect(await outcome(client(PROJECT_KEY).chat.completions.create(hi))).toBe(200)
    expect(await outcome(client(ADMIN_KEY, undefined, true).admin.organization.certificates.list())).toBe(200)
  })

  it('organization-wide: every key must present an active certificate', async () => {
    await client(ADMIN_KEY, undefined, true).admin.organization.certificates.activate({ certificate_ids: [certA] })
    // the inference fast path
    expect(await outcome(client(PROJECT_KEY).chat.completions.create(hi))).toEqual([401, 'client_certificate_required'])
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_B.pem)).chat.completions.create(hi))).toEqual([403, 'client_certificate_not_active'])
    expect(await outcome(client(PROJECT_KEY, 'garbage').chat.completions.create(hi))).toEqual([401, 'client_certificate_required'])
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_A.pem)).chat.completions.create(hi))).toBe(200)
    expect(await outcome(client(PROJECT_KEY, der(CERT_A.pem)).chat.completions.create(hi))).toBe(200)
    // a Hono route
    expect(await outcome(client(PROJECT_KEY).models.list())).toEqual([401, 'client_certificate_required'])
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_A.pem)).models.list())).toBe(200)
    // the Administration API too
    const admin = (cert?: string) => client(ADMIN_KEY, cert, true).admin.organization.certificates
    expect(await outcome(admin().list())).toEqual([401, 'client_certificate_required'])
    const refused = await admin(escaped(CERT_B.pem)).list().catch((e) => e)
    expect(refused.status).toBe(403)
    expect(refused.error.message).toBe(
      `The client certificate presented (SHA-256 ${CERT_B.fingerprint}) is not active for this organization or project. Activate it with POST /v1/organization/certificates/activate (or the project's), or connect with an active one.`,
    )
    // /metrics is not the API: a scraper that reaches Plinth directly keeps working
    const metrics = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(metrics.status).toBe(200)
    expect(await outcome(admin(escaped(CERT_A.pem)).deactivate({ certificate_ids: [certA] }))).toBe(200)
    // at once: the cached principals were forgotten
    expect(await outcome(client(PROJECT_KEY).chat.completions.create(hi))).toBe(200)
    expect(await outcome(admin().list())).toBe(200)
  })

  it("per project: that project's keys need its certificate; others and admin keys do not", async () => {
    const admin = client(ADMIN_KEY, undefined, true).admin.organization
    await admin.projects.certificates.activate(projectId, { certificate_ids: [certB] })
    const other = (await admin.projects.create({ name: 'other' })).id
    const otherKey = await newProjectKey(t, other)
    expect(await outcome(client(PROJECT_KEY).chat.completions.create(hi))).toEqual([401, 'client_certificate_required'])
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_A.pem)).chat.completions.create(hi))).toEqual([403, 'client_certificate_not_active'])
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_B.pem)).chat.completions.create(hi))).toBe(200)
    expect(await outcome(client(otherKey).chat.completions.create(hi))).toBe(200)
    expect(await outcome(admin.certificates.list())).toBe(200)
    // an organization-wide certificate is good for the project too
    await admin.certificates.activate({ certificate_ids: [certA] })
    expect(await outcome(client(PROJECT_KEY, escaped(CERT_A.pem)).chat.completions.create(hi))).toBe(200)
    expect(await outcome(client(otherKey).chat.completions.create(hi))).toEqual([401, 'client_certificate_required'])
    await client(ADMIN_KEY, escaped(CERT_A.pem), true).admin.organization.certificates.deactivate({ certificate_ids: [certA] })
    await admin.projects.certificates.deactivate(projectId, { certificate_ids: [certB] })
    expect(await outcome(client(PROJECT_KEY).chat.completions.create(hi))).toBe(200)
  })
})
