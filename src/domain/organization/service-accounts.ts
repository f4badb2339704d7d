import { notFound } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { scopesOf } from '../../schemas/key-permissions.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { ServiceAccountRow } from '../../storage/repositories/service-accounts.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from './audit.js'
import { KeysService } from './keys.js'
import { deleted, toServiceAccount } from './objects.js'
import { activeProject, deleteKeys, pageOf } from './shared.js'

/** Service accounts: a project identity with one key, whose secret only creation returns. */
export class ServiceAccountsService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async create(principal: Principal, projectId: string, name: string) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, principal.orgId, projectId)
      const account: ServiceAccountRow = {
        id: newId('svc_acct_'),
        project_id: projectId,
        name,
        role: 'member',
        created_at: nowSeconds(),
      }
      await repos.serviceAccounts.insert(account)
      const key = await new KeysService(tx).create({
        orgId: principal.orgId,
        projectId,
        name: 'Secret Key',
        ownerType: 'service_account',
        ownerId: account.id,
      })
      const actor = actorOf(principal)
      const scope = { id: project.id, name: project.name }
      await recordAudit(tx, principal.orgId, actor, {
        type: 'service_account.created',
        project: scope,
        details: { id: account.id, data: { role: account.role }, after: toServiceAccount(account) },
      })
      await recordAudit(tx, principal.orgId, actor, {
        type: 'api_key.created',
        project: scope,
        details: { id: key.row.id, data: { scopes: scopesOf({ mode: 'all' }) } },
      })
      return {
        ...toServiceAccount(account),
        role: 'member' as const,
        api_key: {
          object: 'organization.project.service_account.api_key' as const,
          value: key.secret,
          name: key.row.name,
          created_at: key.row.created_at,
          id: key.row.id,
        },
      }
    })
  }

  async list(principal: Principal, projectId: string, query: { after?: string; limit: number }) {
    const repos = createRepos(this.storage.db)
    await activeProject(repos, principal.orgId, projectId)
    return pageOf(await repos.serviceAccounts.page(projectId, query), query.limit, toServiceAccount)
  }

  async get(principal: Principal, projectId: string, id: string) {
    const repos = createRepos(this.storage.db)
    await activeProject(repos, principal.orgId, projectId)
    const account = await repos.serviceAccounts.get(projectId, id)
    if (!account) throw notFound('service account', id)
    return toServiceAccount(account)
  }

  /** Deletes the account and revokes its keys. */
  async delete(principal: Principal, projectId: string, id: string) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, principal.orgId, projectId)
      const account = await repos.serviceAccounts.get(projectId, id)
      if (!account) throw notFound('service account', id)
      const actor = actorOf(principal)
      await deleteKeys(
        tx,
        await repos.apiKeys.byOwner('service_account', id, projectId),
        actor,
        project,
      )
      await repos.serviceAccounts.delete(projectId, id)
      await recordAudit(tx, principal.orgId, actor, {
        type: 'service_account.deleted',
        project: { id: project.id, name: project.name },
        details: { id, before: toServiceAccount(account) },
      })
    })
    await this.keys.revoked()
    return deleted('organization.project.service_account.deleted', id)
  }
}
