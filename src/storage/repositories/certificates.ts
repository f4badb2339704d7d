import type { Kysely, Selectable } from 'kysely'
import type { CertificatesTable, Database } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type CertificateRow = Selectable<CertificatesTable>
/** A certificate as a project sees it: `project_active` 1 when active for that project. */
export type ProjectCertificateRow = CertificateRow & { project_active: number }

type OrderedPage = PageQuery & { order: 'asc' | 'desc' }

export class CertificatesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: CertificateRow) {
    await this.db.insertInto('certificates').values(row).execute()
  }

  get(orgId: string, id: string): Promise<CertificateRow | undefined> {
    return this.db
      .selectFrom('certificates')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  async count(orgId: string): Promise<number> {
    const row = await this.db
      .selectFrom('certificates')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('org_id', '=', orgId)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  /** limit + 1 rows, by id (creation order) in `order`. */
  page(orgId: string, query: OrderedPage): Promise<CertificateRow[]> {
    let q = this.db.selectFrom('certificates').selectAll().where('org_id', '=', orgId)
    if (query.after) q = q.where('id', query.order === 'asc' ? '>' : '<', query.after)
    return q
      .orderBy('id', query.order)
      .limit(query.limit + 1)
      .execute()
  }

  /** The organization's certificates, each with whether it is active for the project. */
  projectPage(orgId: string, projectId: string, query: OrderedPage): Promise<ProjectCertificateRow[]> {
    let q = this.db
      .selectFrom('certificates as c')
      .leftJoin('project_certificates as p', (j) =>
        j.onRef('p.certificate_id', '=', 'c.id').on('p.project_id', '=', projectId),
      )
      .selectAll('c')
      .select((eb) =>
        eb.case().when('p.project_id', 'is not', null).then(1).else(0).end().as('project_active'),
      )
      .where('c.org_id', '=', orgId)
    if (query.after) q = q.where('c.id', query.order === 'asc' ? '>' : '<', query.after)
    return q
      .orderBy('c.id', query.order)
      .limit(query.limit + 1)
      .execute()
  }

  async rename(id: string, name: string) {
    await this.db.updateTable('certificates').set({ name }).where('id', '=', id).execute()
  }

  async setActive(orgId: string, ids: string[], active: 0 | 1) {
    await this.db
      .updateTable('certificates')
      .set({ active })
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute()
  }

  /** Idempotent: a certificate already active for the project keeps its first activation. */
  async activateForProject(projectId: string, ids: string[], now: number) {
    await this.db
      .insertInto('project_certificates')
      .values(ids.map((id) => ({ project_id: projectId, certificate_id: id, activated_at: now })))
      .onConflict((oc) => oc.columns(['project_id', 'certificate_id']).doNothing())
      .execute()
  }

  async deactivateForProject(projectId: string, ids: string[]) {
    await this.db
      .deleteFrom('project_certificates')
      .where('project_id', '=', projectId)
      .where('certificate_id', 'in', ids)
      .execute()
  }

  /** How many projects have the certificate active. */
  async projectActivations(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('project_certificates')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('certificate_id', '=', id)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async delete(id: string) {
    await this.db.deleteFrom('certificates').where('id', '=', id).execute()
  }

  /**
   * The fingerprints a caller must present one of: certificates active for the organization,
   * and for the project when there is one. Empty: nothing is required.
   */
  async activeFingerprints(orgId: string, projectId: string | null): Promise<string[]> {
    const rows = await this.db
      .selectFrom('certificates')
      .select('fingerprint')
      .where('org_id', '=', orgId)
      .where((eb) => {
        const orgWide = eb('active', '=', 1)
        if (projectId === null) return orgWide
        const inProject = eb(
          'id',
          'in',
          eb
            .selectFrom('project_certificates')
            .select('certificate_id')
            .where('project_id', '=', projectId),
        )
        return eb.or([orgWide, inProject])
      })
      .execute()
    return rows.map((r) => r.fingerprint)
  }
}
