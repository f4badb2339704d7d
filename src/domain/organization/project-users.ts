import { alreadyInProject, notFound } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { ProjectMemberRow, ProjectUserRow } from '../../storage/repositories/project-users.js'
import { nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from './audit.js'
import type { KeysService } from './keys.js'
import { deleted, toProjectUser } from './objects.js'
import { activeProject, deleteKeys, pageOf } from './shared.js'

/** Members of a project. Users must already belong to the organization; archived projects have none. */
export class ProjectUsersService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async list(principal: Principal, projectId: string, query: { after?: string; limit: number }) {
    const repos = createRepos(this.storage.db)
    await activeProject(repos, principal.orgId, projectId)
    const rows = await repos.projectUsers.page(projectId, query)
    return pageOf(rows, query.limit, toProjectUser)
  }

  async add(
    principal: Principal,
    projectId: string,
    params: { user_id: string; role: ProjectUserRow['role'] },
  ) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, principal.orgId, projectId)
      const user = await repos.users.get(principal.orgId, params.user_id)
      if (!user) throw notFound('user', params.user_id)
      if (await repos.projectUsers.get(projectId, user.id))
        throw alreadyInProject(user.id, projectId)
      const row: ProjectUserRow = {
        project_id: projectId,
        user_id: user.id,
        role: params.role,
        added_at: nowSeconds(),
      }
      await repos.projectUsers.insert(row)
      const member = toProjectUser({ ...row, name: user.name, email: user.email })
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'user.added',
        project: { id: project.id, name: project.name },
        details: { id: user.id, data: { role: params.role }, after: member },
      })
      return member
    })
  }

  async get(principal: Principal, projectId: string, userId: string) {
    const repos = createRepos(this.storage.db)
    await activeProject(repos, principal.orgId, projectId)
    return toProjectUser(await member(repos, projectId, userId))
  }

  async update(
    principal: Principal,
    projectId: string,
    userId: string,
    role: ProjectUserRow['role'],
  ) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, principal.orgId, projectId)
      const before = await member(repos, projectId, userId)
      await repos.projectUsers.setRole(projectId, userId, role)
      const after = toProjectUser({ ...before, role })
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'user.updated',
        project: { id: project.id, name: project.name },
        details: { id: userId, changes_requested: { role }, before: toProjectUser(before), after },
      })
      return after
    })
  }

  /** Removes the user from the project; their keys in it are revoked. */
  async remove(principal: Principal, projectId: string, userId: string) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const project = await activeProject(repos, principal.orgId, projectId)
      const before = await member(repos, projectId, userId)
      const actor = actorOf(principal)
      await deleteKeys(tx, await repos.apiKeys.byOwner('user', userId, projectId), actor, project)
      await repos.projectUsers.delete(projectId, userId)
      await recordAudit(tx, principal.orgId, actor, {
        type: 'user.deleted',
        project: { id: project.id, name: project.name },
        details: { id: userId, before: toProjectUser(before) },
      })
    })
    await this.keys.revoked()
    return deleted('organization.project.user.deleted', userId)
  }
}

async function member(repos: Repos, projectId: string, userId: string): Promise<ProjectMemberRow> {
  const row = await repos.projectUsers.get(projectId, userId)
  if (!row) throw notFound('project user', userId)
  return row
}
