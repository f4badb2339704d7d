import type { Config } from '../../config/schema.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { OrganizationRow, ProjectRow } from '../../storage/repositories/organizations.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { lockInTransaction } from '../../storage/dialect.js'
import type { Storage } from '../../storage/storage.js'

const BOOTSTRAP_LOCK = 0x504c4e01
import { KeysService } from './keys.js'

export type BootstrapResult = {
  organization: OrganizationRow
  /** Set only on the first start: the secrets to print once. */
  created?: { project: ProjectRow; adminKey: string; projectKey: string }
}

/**
 * On first start: the organization, a Default project, an admin key and a project key, in one
 * transaction. The keys come from config (PLINTH_BOOTSTRAP_*) or are generated; later starts
 * change nothing.
 */
export async function bootstrapOrganization(storage: Storage, config: Config): Promise<BootstrapResult> {
  const existing = await createRepos(storage.db).organizations.first()
  if (existing) return { organization: existing }
  return storage.transaction(async (tx) => {
    // two nodes starting at once on an empty database: only the first creates the organization
    await lockInTransaction(tx.db, tx.dialect, BOOTSTRAP_LOCK)
    const repos = createRepos(tx.db)
    const raced = await repos.organizations.first()
    if (raced) return { organization: raced }
    const now = nowSeconds()
    const organization: OrganizationRow = { id: newId('org-'), name: config.organization.name, created_at: now }
    await repos.organizations.insert(organization)
    const project: ProjectRow = {
      id: newId('proj_'),
      org_id: organization.id,
      name: 'Default project',
      status: 'active',
      created_at: now,
      archived_at: null,
    }
    await repos.projects.insert(project)
    const keys = new KeysService(tx)
    const admin = await keys.create({ orgId: organization.id, projectId: null, name: 'Bootstrap admin key', secret: config.bootstrap.adminKey })
    const proj = await keys.create({ orgId: organization.id, projectId: project.id, name: 'Bootstrap project key', secret: config.bootstrap.projectKey })
    return { organization, created: { project, adminKey: admin.secret, projectKey: proj.secret } }
  })
}
