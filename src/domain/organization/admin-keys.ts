import { notFound } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { adminScopesOf } from '../../schemas/key-permissions.js'
import type { ApiKeyRow } from '../../storage/repositories/api-keys.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { UserRow } from '../../storage/repositories/users.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit, type Actor } from './audit.js'
import { KeysService } from './keys.js'
import { deleted, toAdminApiKey } from './objects.js'
import { keyUser, pageOf } from './shared.js'

/** Admin API keys: each belongs to a user and acts with that user's role. */
export class AdminKeysService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async list(
    principal: Principal,
    query: { after?: string; limit: number; order: 'asc' | 'desc' },
  ) {
    const repos = createRepos(this.storage.db)
    const rows = await repos.apiKeys.page(principal.orgId, null, query)
    const page = pageOf(rows, query.limit, (r) => r)
    const data = await Promise.all(
      page.data.map(async (r) => toAdminApiKey(r, await ownerOf(repos, r))),
    )
    return { ...page, data }
  }

  /** A new admin key for the caller's user; its secret is in this answer only. */
  async create(principal: Principal, name: string) {
    const owner = principal.owner?.type === 'user' ? principal.owner.id : undefined
    return this.createFor(actorOf(principal), principal.orgId, { name, ownerUserId: owner })
  }

  /** Also the CLI's `keys create --admin`: owned by `ownerUserId`, or the organization's owner. */
  async createFor(actor: Actor, orgId: string, input: { name: string; ownerUserId?: string }) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const ownerId = input.ownerUserId ?? (await repos.organizations.get(orgId))?.owner_user_id
      const owner = ownerId ? await repos.users.get(orgId, ownerId) : undefined
      if (!owner) throw notFound('user', ownerId ?? '')
      const created = await new KeysService(tx).create({
        orgId,
        projectId: null,
        name: input.name,
        ownerType: 'user',
        ownerId: owner.id,
      })
      await recordAudit(tx, orgId, actor, {
        type: 'api_key.created',
        details: { id: created.row.id, data: { scopes: adminScopesOf(owner.role) } },
      })
      return toAdminApiKey(created.row, owner, created.secret)
    })
  }

  async get(principal: Principal, id: string) {
    const repos = createRepos(this.storage.db)
    const key = await find(repos, principal.orgId, id)
    return toAdminApiKey(key, await ownerOf(repos, key))
  }

  async delete(principal: Principal, id: string) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const key = await find(repos, principal.orgId, id)
      await repos.apiKeys.delete(id)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'api_key.deleted',
        details: { id, before: { name: key.name, redacted_value: key.redacted_value } },
      })
    })
    await this.keys.revoked()
    return deleted('organization.admin_api_key.deleted', id)
  }
}

async function find(repos: Repos, orgId: string, id: string): Promise<ApiKeyRow> {
  const key = await repos.apiKeys.get(id)
  if (!key || key.org_id !== orgId || key.kind !== 'admin') throw notFound('admin API key', id)
  return key
}

async function ownerOf(repos: Repos, key: ApiKeyRow): Promise<UserRow> {
  const user = await keyUser(repos, key)
  // only a database edited by hand has an admin key without a user
  return (
    user ?? {
      id: '',
      org_id: key.org_id,
      email: '',
      name: '',
      role: 'owner',
      added_at: key.created_at,
    }
  )
}
