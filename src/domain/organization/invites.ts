import {
  alreadyMember,
  inviteAccepted,
  inviteNotAcceptable,
  invitePending,
  invalidInviteToken,
  notFound,
} from '../../errors.js'
import type { Principal } from '../../principal.js'
import { adminScopesOf } from '../../schemas/key-permissions.js'
import type { InviteCreateParams } from '../../schemas/organization.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { InviteRow } from '../../storage/repositories/invites.js'
import type { UserRow } from '../../storage/repositories/users.js'
import { newId, newSecret, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit, type Actor } from './audit.js'
import { hashSecret, KeysService } from './keys.js'
import { deleted, inviteStatus, toAdminApiKey, toInvite, toUser } from './objects.js'
import { activeProject, pageOf } from './shared.js'

const INVITE_TTL_SECONDS = 7 * 24 * 3600

/**
 * Invites. Plinth sends no e-mail: creating an invite returns a one-time `accept_token` (shown
 * once, stored hashed) that the invitee redeems through `POST /v1/organization/invites/{id}/accept`
 * or `plinth invites accept <token>`. Accepting creates the user, adds them to the invite's
 * projects and gives them an admin key of their own (a reader's key can only read).
 */
export class InvitesService {
  constructor(private readonly storage: Storage) {}

  async create(principal: Principal, params: InviteCreateParams) {
    const email = params.email.toLowerCase()
    const token = newSecret('inv_')
    const row = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const now = nowSeconds()
      if (await repos.users.byEmail(principal.orgId, email)) throw alreadyMember(email)
      if (await repos.invites.pendingFor(principal.orgId, email, now)) throw invitePending(email)
      for (const p of params.projects ?? []) await activeProject(repos, principal.orgId, p.id)
      const projects = params.projects ?? (await defaultProjects(repos, principal.orgId))
      const invite: InviteRow = {
        id: newId('invite-'),
        org_id: principal.orgId,
        email,
        role: params.role,
        status: 'pending',
        token_hash: hashSecret(token),
        projects: JSON.stringify(projects),
        invited_at: now,
        expires_at: now + INVITE_TTL_SECONDS,
        accepted_at: null,
        user_id: null,
      }
      await repos.invites.insert(invite)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'invite.sent',
        details: {
          id: invite.id,
          data: { email, role: params.role },
          after: toInvite(invite, now),
        },
      })
      return invite
    })
    return { ...toInvite(row, nowSeconds()), accept_token: token }
  }

  async list(principal: Principal, query: { after?: string; limit: number }) {
    const rows = await createRepos(this.storage.db).invites.page(principal.orgId, query)
    const now = nowSeconds()
    return pageOf(rows, query.limit, (r) => toInvite(r, now))
  }

  async get(principal: Principal, id: string) {
    return toInvite(await this.find(this.storage, principal.orgId, id), nowSeconds())
  }

  async delete(principal: Principal, id: string) {
    await this.storage.transaction(async (tx) => {
      const invite = await this.find(tx, principal.orgId, id)
      if (invite.status === 'accepted') throw inviteAccepted(id)
      await createRepos(tx.db).invites.delete(principal.orgId, id)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'invite.deleted',
        details: { id, before: toInvite(invite, nowSeconds()) },
      })
    })
    return deleted('organization.invite.deleted', id)
  }

  /** Redeems a token: the new user, and their admin key (its secret shown this once). */
  async accept(
    input: { token: string; inviteId?: string; name?: string },
    via: { ip?: string } = {},
  ) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const invite = await repos.invites.byTokenHash(hashSecret(input.token))
      if (!invite || (input.inviteId !== undefined && invite.id !== input.inviteId))
        throw invalidInviteToken()
      const now = nowSeconds()
      const status = inviteStatus(invite, now)
      if (status !== 'pending') throw inviteNotAcceptable(invite.id, status)
      if (await repos.users.byEmail(invite.org_id, invite.email)) throw alreadyMember(invite.email)
      const user: UserRow = {
        id: newId('user-'),
        org_id: invite.org_id,
        email: invite.email,
        name: input.name ?? invite.email.split('@')[0],
        role: invite.role,
        added_at: now,
      }
      await repos.users.insert(user)
      if (!(await repos.invites.accept(invite.id, user.id, now)))
        throw inviteNotAcceptable(invite.id, 'accepted')
      const actor: Actor = { type: 'session', user: { id: user.id, email: user.email }, ...via }
      await recordAudit(tx, invite.org_id, actor, {
        type: 'invite.accepted',
        details: { id: invite.id, after: toUser(user) },
      })
      for (const p of JSON.parse(invite.projects) as { id: string; role: 'owner' | 'member' }[]) {
        const project = await repos.projects.get(p.id)
        // a project archived since the invite was sent is skipped
        if (!project || project.status !== 'active') continue
        await repos.projectUsers.insert({
          project_id: p.id,
          user_id: user.id,
          role: p.role,
          added_at: now,
        })
        await recordAudit(tx, invite.org_id, actor, {
          type: 'user.added',
          project: { id: project.id, name: project.name },
          details: { id: user.id, data: { role: p.role } },
        })
      }
      const key = await new KeysService(tx).create({
        orgId: invite.org_id,
        projectId: null,
        name: `${user.name}'s admin key`,
        ownerType: 'user',
        ownerId: user.id,
      })
      await recordAudit(tx, invite.org_id, actor, {
        type: 'api_key.created',
        details: { id: key.row.id, data: { scopes: adminScopesOf(user.role) } },
      })
      const accepted = {
        ...invite,
        status: 'accepted' as const,
        accepted_at: now,
        user_id: user.id,
      }
      return {
        object: 'organization.invite.acceptance' as const,
        invite: toInvite(accepted, now),
        user: toUser(user),
        admin_api_key: toAdminApiKey(key.row, user, key.secret),
      }
    })
  }

  private async find(storage: Storage, orgId: string, id: string): Promise<InviteRow> {
    const invite = await createRepos(storage.db).invites.get(orgId, id)
    if (!invite) throw notFound('invite', id)
    return invite
  }
}

/**
 * Without `projects`, the invitee joins the default project as a member, as the spec says OpenAI
 * does "for compatibility with legacy behavior" (an empty list invites to none).
 */
async function defaultProjects(repos: Repos, orgId: string) {
  const project = await repos.projects.first(orgId)
  return project?.status === 'active' ? [{ id: project.id, role: 'member' as const }] : []
}
