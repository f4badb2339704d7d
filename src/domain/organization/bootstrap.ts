import type { Config } from '../../config/schema.js'
import { adminScopesOf, scopesOf } from '../../schemas/key-permissions.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { OrganizationRow, ProjectRow } from '../../storage/repositories/organizations.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { lockInTransaction } from '../../storage/dialect.js'
import type { Storage } from '../../storage/storage.js'
import { recordAudit, type Actor } from './audit.js'
import { KeysService } from './keys.js'

const BOOTSTRAP_LOCK = 0x504c4e01

export type BootstrapResult = {
  organization: OrganizationRow
  /** Set only on the first start: the secrets to print once. */
  created?: { project: ProjectRow; adminKey: string; projectKey: string }
}

/**
 * On first start: the organization, its owner user, a Default project, an admin key and a project
 * key, in one transaction. The keys come from config (PLINTH_BOOTSTRAP_*) or are generated;
 * later starts change nothing, except giving a database made before users existed its owner.
 */
export async function bootstrapOrganization(
  storage: Storage,
  config: Config,
): Promise<BootstrapResult> {
  const existing = await createRepos(storage.db).organizations.first()
  if (existing?.owner_user_id) return { organization: existing }
  return storage.transaction(async (tx) => {
    // two nodes starting at once on an empty database: only the first creates the organization
    await lockInTransaction(tx.db, tx.dialect, BOOTSTRAP_LOCK)
    const repos = createRepos(tx.db)
    const raced = await repos.organizations.first()
    if (raced) return { organization: await ensureOwner(tx, config, raced) }
    const now = nowSeconds()
    const organization: OrganizationRow = {
      id: newId('org-'),
      name: config.organization.name,
      created_at: now,
      owner_user_id: null,
    }
    await repos.organizations.insert(organization)
    const project: ProjectRow = {
      id: newId('proj_'),
      org_id: organization.id,
      name: 'Default project',
      status: 'active',
      created_at: now,
      archived_at: null,
      model_mode: null,
      model_ids: null,
      request_log_bodies: 0,
    }
    await repos.projects.insert(project)
    const withOwner = await ensureOwner(tx, config, organization)
    const keys = new KeysService(tx)
    const admin = await keys.create({
      orgId: organization.id,
      projectId: null,
      name: 'Bootstrap admin key',
      secret: config.bootstrap.adminKey,
    })
    const proj = await keys.create({
      orgId: organization.id,
      projectId: project.id,
      name: 'Bootstrap project key',
      secret: config.bootstrap.projectKey,
    })
    // the first key events of the audit log, made by the owner on the server's own console
    const owner = (await repos.users.get(organization.id, withOwner.owner_user_id!))!
    const actor: Actor = {
      type: 'session',
      user: { id: owner.id, email: owner.email },
      ip: '127.0.0.1',
    }
    await recordAudit(tx, organization.id, actor, {
      type: 'api_key.created',
      details: { id: admin.row.id, data: { scopes: adminScopesOf('owner') } },
    })
    await recordAudit(tx, organization.id, actor, {
      type: 'api_key.created',
      project: { id: project.id, name: project.name },
      details: { id: proj.row.id, data: { scopes: scopesOf({ mode: 'all' }) } },
    })
    return {
      organization: withOwner,
      created: { project, adminKey: admin.secret, projectKey: proj.secret },
    }
  })
}

/**
 * The organization's owner user (config organization.ownerEmail), an owner of every active
 * project. Keys made by the system (bootstrap, the CLI) act as this user, so admin keys always
 * have an owner and audit logs an actor. Runs inside the bootstrap transaction.
 */
async function ensureOwner(
  tx: Storage,
  config: Config,
  organization: OrganizationRow,
): Promise<OrganizationRow> {
  if (organization.owner_user_id) return organization
  const repos = createRepos(tx.db)
  const email = config.organization.ownerEmail.trim().toLowerCase()
  let user = await repos.users.byEmail(organization.id, email)
  if (!user) {
    user = {
      id: newId('user-'),
      org_id: organization.id,
      email,
      name: 'Owner',
      role: 'owner',
      added_at: organization.created_at,
    }
    await repos.users.insert(user)
  }
  for (const project of await repos.projects.list(organization.id)) {
    if (project.status !== 'active' || (await repos.projectUsers.get(project.id, user.id))) continue
    await repos.projectUsers.insert({
      project_id: project.id,
      user_id: user.id,
      role: 'owner',
      added_at: project.created_at,
    })
  }
  await repos.organizations.setOwner(organization.id, user.id)
  return { ...organization, owner_user_id: user.id }
}
