import { invalidRequest, notFound, serviceAccountKey } from '../../errors.js'
import type { KeyPermissions, Principal } from '../../principal.js'
import { scopesOf } from '../../schemas/key-permissions.js'
import type { ApiKeyRow } from '../../storage/repositories/api-keys.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit, type Actor } from './audit.js'
import { KeysService } from './keys.js'
import { deleted, toProjectApiKey } from './objects.js'
import { activeProject, findProject, pageOf, projectKeyOwner } from './shared.js'

/**
 * A project's API keys through the Administration API: list, retrieve, delete (OpenAI has no
 * create here; keys come from the CLI or with service accounts). The CLI's create and
 * permission changes live here too, so they are audited the same way.
 */
export class ProjectKeysService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async list(principal: Principal, projectId: string, query: { after?: string; limit: number }) {
    const repos = createRepos(this.storage.db)
    await findProject(repos, principal.orgId, projectId)
    const rows = await repos.apiKeys.page(principal.orgId, projectId, query)
    const page = pageOf(rows, query.limit, (r) => r)
    const data = await Promise.all(
      page.data.map(async (r) => toProjectApiKey(r, await projectKeyOwner(repos, r))),
    )
    return { ...page, data }
  }

  async get(principal: Principal, projectId: string, keyId: string) {
    const repos = createRepos(this.storage.db)
    await findProject(repos, principal.orgId, projectId)
    const key = await find(repos, projectId, keyId)
    return toProjectApiKey(key, await projectKeyOwner(repos, key))
  }

  /** Revokes a key; a service account's key goes only with its account (the spec's 400). */
  async delete(principal: Principal, projectId: string, keyId: string) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await findProject(repos, principal.orgId, projectId)
      const key = await find(repos, projectId, keyId)
      if (key.owner_type === 'service_account') throw serviceAccountKey(keyId)
      await repos.apiKeys.delete(keyId)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'api_key.deleted',
        project: { id: project.id, name: project.name },
        details: { id: keyId, before: { name: key.name, redacted_value: key.redacted_value } },
      })
    })
    await this.keys.revoked()
    return deleted('organization.project.api_key.deleted', keyId)
  }

  /** A new project key owned by a user (by default the organization's owner): the CLI's `keys create`. */
  async create(
    actor: Actor,
    orgId: string,
    projectId: string,
    input: { name: string; ownerUserId?: string; permissions?: KeyPermissions },
  ) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, orgId, projectId)
      if (input.ownerUserId && !(await repos.users.get(orgId, input.ownerUserId)))
        throw notFound('user', input.ownerUserId)
      const permissions = input.permissions ?? { mode: 'all' }
      const created = await new KeysService(tx).create({
        orgId,
        projectId,
        name: input.name,
        ownerType: input.ownerUserId ? 'user' : 'system',
        ownerId: input.ownerUserId ?? null,
        permissions,
      })
      await recordAudit(tx, orgId, actor, {
        type: 'api_key.created',
        project: { id: project.id, name: project.name },
        details: { id: created.row.id, data: { scopes: scopesOf(permissions) }, permissions },
      })
      return created
    })
  }

  /** Changes what a project key may do (`api_key.updated`); effective at once on this node. */
  async setPermissions(actor: Actor, orgId: string, keyId: string, permissions: KeyPermissions) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const key = await repos.apiKeys.get(keyId)
      if (!key || key.org_id !== orgId) throw notFound('API key', keyId)
      if (key.kind !== 'project')
        throw invalidRequest(
          "Only project keys have permissions; an admin key acts with its user's role.",
        )
      const project = await findProject(repos, orgId, key.project_id!)
      await repos.apiKeys.setPermissions(keyId, JSON.stringify(permissions))
      await recordAudit(tx, orgId, actor, {
        type: 'api_key.updated',
        project: { id: project.id, name: project.name },
        details: {
          id: keyId,
          changes_requested: { scopes: scopesOf(permissions) },
          before: { permissions: JSON.parse(key.permissions) },
          after: { permissions },
        },
      })
    })
    await this.keys.revoked()
  }
}

async function find(repos: Repos, projectId: string, keyId: string): Promise<ApiKeyRow> {
  const key = await repos.apiKeys.get(keyId)
  if (!key || key.project_id !== projectId) throw notFound('API key', keyId)
  return key
}
