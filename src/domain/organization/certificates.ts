import { certificateLimit, certificateStillActive, notFound } from '../../errors.js'
import type { Principal } from '../../principal.js'
import type { CertificateRow } from '../../storage/repositories/certificates.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import { toPage } from '../../schemas/shared.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from './audit.js'
import type { KeysService } from './keys.js'
import { toCertificate, toScopedCertificate } from './objects.js'
import { parseCertificatePem } from './pem.js'
import { activeProject, findProject, pageOf } from './shared.js'

/** The spec: "Organizations can upload up to 50 certificates." */
export const MAX_CERTIFICATES = 50

type ListQuery = { after?: string; limit: number; order: 'asc' | 'desc' }

/**
 * The Certificates API: client certificates uploaded to the organization, then activated for it
 * or for some of its projects. Activation answers are the spec's ListCertificatesResponse
 * (object `list`): the spec's examples show `organization.certificate.activation` there, but its
 * schema says `list` and openai-node reads them as a plain page.
 */
export class CertificatesService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async upload(principal: Principal, input: { name?: string; pem: string }) {
    const parsed = parseCertificatePem(input.pem)
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if ((await repos.certificates.count(principal.orgId)) >= MAX_CERTIFICATES) {
        throw certificateLimit(MAX_CERTIFICATES)
      }
      const row: CertificateRow = {
        id: newId('cert_'),
        org_id: principal.orgId,
        name: input.name ?? null,
        content: parsed.pem,
        fingerprint: parsed.fingerprint,
        valid_at: parsed.valid_at,
        expires_at: parsed.expires_at,
        created_at: nowSeconds(),
        active: 0,
      }
      await repos.certificates.insert(row)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'certificate.created',
        details: named(row),
      })
      return toCertificate(row)
    })
  }

  async list(principal: Principal, query: ListQuery) {
    const rows = await createRepos(this.storage.db).certificates.page(principal.orgId, query)
    return pageOf(rows, query.limit, (r) =>
      toScopedCertificate(r, 'organization.certificate', r.active === 1),
    )
  }

  async get(principal: Principal, id: string, withContent: boolean) {
    return toCertificate(await find(createRepos(this.storage.db), principal.orgId, id), withContent)
  }

  async modify(principal: Principal, id: string, name: string | undefined) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await find(repos, principal.orgId, id)
      if (name === undefined) return toCertificate(row)
      await repos.certificates.rename(id, name)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'certificate.updated',
        details: { id, name },
      })
      return toCertificate({ ...row, name })
    })
  }

  /** Only an inactive certificate (for the organization and every project) can go. */
  async delete(principal: Principal, id: string) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const row = await find(repos, principal.orgId, id)
      if (row.active === 1 || (await repos.certificates.projectActivations(id)) > 0) {
        throw certificateStillActive(id)
      }
      await repos.certificates.delete(id)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'certificate.deleted',
        details: { ...named(row), certificate: row.content },
      })
      return { object: 'certificate.deleted' as const, id }
    })
  }

  /** Activates or deactivates up to 10 certificates for the organization, all or none. */
  async toggleForOrganization(principal: Principal, ids: string[], active: boolean) {
    const answer = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const rows = await findAll(repos, principal.orgId, ids)
      await repos.certificates.setActive(principal.orgId, rows.map((r) => r.id), active ? 1 : 0)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: active ? 'certificates.activated' : 'certificates.deactivated',
        details: { certificates: rows.map(named) },
      })
      return toPage(
        rows.map((r) => toScopedCertificate(r, 'organization.certificate', active)),
        false,
      )
    })
    // cached principals carry the certificates they must present (mutual TLS)
    await this.keys.revoked()
    return answer
  }

  /** The organization's certificates, each with whether it is active for the project. */
  async listForProject(principal: Principal, projectId: string, query: ListQuery) {
    const repos = createRepos(this.storage.db)
    await findProject(repos, principal.orgId, projectId)
    const rows = await repos.certificates.projectPage(principal.orgId, projectId, query)
    return pageOf(rows, query.limit, (r) =>
      toScopedCertificate(r, 'organization.project.certificate', Number(r.project_active) === 1),
    )
  }

  async toggleForProject(principal: Principal, projectId: string, ids: string[], active: boolean) {
    const answer = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      // an archived project's certificates can still be deactivated, so that they can be deleted
      const project = active
        ? await activeProject(repos, principal.orgId, projectId)
        : await findProject(repos, principal.orgId, projectId)
      const rows = await findAll(repos, principal.orgId, ids)
      const found = rows.map((r) => r.id)
      if (active) await repos.certificates.activateForProject(projectId, found, nowSeconds())
      else await repos.certificates.deactivateForProject(projectId, found)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: active ? 'certificates.activated' : 'certificates.deactivated',
        project: { id: project.id, name: project.name },
        details: { certificates: rows.map(named) },
      })
      return toPage(
        rows.map((r) => toScopedCertificate(r, 'organization.project.certificate', active)),
        false,
      )
    })
    await this.keys.revoked()
    return answer
  }
}

async function find(repos: Repos, orgId: string, id: string): Promise<CertificateRow> {
  const row = await repos.certificates.get(orgId, id)
  if (!row) throw notFound('certificate', id)
  return row
}

/** Each named certificate once, in the order named; a 404 for the first unknown one. */
async function findAll(repos: Repos, orgId: string, ids: string[]): Promise<CertificateRow[]> {
  const rows: CertificateRow[] = []
  for (const id of new Set(ids)) {
    const row = await repos.certificates.get(orgId, id)
    if (!row) throw notFound('certificate', id, 'certificate_ids')
    rows.push(row)
  }
  return rows
}

/** A certificate in an audit event: `{ id, name }`, without the name when it has none. */
function named(row: CertificateRow) {
  return row.name === null ? { id: row.id } : { id: row.id, name: row.name }
}
