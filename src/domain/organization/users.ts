import { lastOwner, notFound } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UserRow } from '../../storage/repositories/users.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from './audit.js'
import type { KeysService } from './keys.js'
import { deleted, toUser } from './objects.js'
import { deleteKeys, pageOf } from './shared.js'

/** The organization's users: list, retrieve, change role (owner | reader), remove. */
export class UsersService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async list(principal: Principal, query: { after?: string; limit: number; emails?: string[] }) {
    const emails = query.emails?.map((e) => e.trim().toLowerCase())
    const rows = await createRepos(this.storage.db).users.page(principal.orgId, {
      ...query,
      emails,
    })
    return pageOf(rows, query.limit, toUser)
  }

  async get(principal: Principal, id: string) {
    return toUser(await this.find(this.storage, principal.orgId, id))
  }

  async update(principal: Principal, id: string, role: UserRow['role']) {
    const result = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await this.find(tx, principal.orgId, id)
      if (
        before.role === 'owner' &&
        role !== 'owner' &&
        (await repos.users.countOwners(principal.orgId)) <= 1
      ) {
        throw lastOwner()
      }
      await repos.users.setRole(principal.orgId, id, role)
      const after = { ...before, role }
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'user.updated',
        details: { id, changes_requested: { role }, before: toUser(before), after: toUser(after) },
      })
      return toUser(after)
    })
    // the user's admin keys now act with the new role
    await this.keys.revoked()
    return result
  }

  /** Removes the user, their project memberships and every key they own. */
  async delete(principal: Principal, id: string) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const user = await this.find(tx, principal.orgId, id)
      if (user.role === 'owner' && (await repos.users.countOwners(principal.orgId)) <= 1)
        throw lastOwner()
      const actor = actorOf(principal)
      await deleteKeys(tx, await repos.apiKeys.byOwner('user', id), actor)
      const organization = await repos.organizations.get(principal.orgId)
      if (organization?.owner_user_id === id) {
        // keys made by the system act as the organization's owner: hand that over to another owner
        const next = await repos.users.anotherOwner(principal.orgId, id)
        if (next) await repos.organizations.setOwner(principal.orgId, next.id)
      }
      await repos.projectUsers.deleteUser(id)
      await repos.users.delete(principal.orgId, id)
      await recordAudit(tx, principal.orgId, actor, {
        type: 'user.deleted',
        details: { id, before: toUser(user) },
      })
    })
    await this.keys.revoked()
    return deleted('organization.user.deleted', id)
  }

  private async find(storage: Storage, orgId: string, id: string): Promise<UserRow> {
    const user = await createRepos(storage.db).users.get(orgId, id)
    if (!user) throw notFound('user', id)
    return user
  }
}
