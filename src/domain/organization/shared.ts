import { notFound, projectArchived } from '../../errors.js'
import { toPage } from '../../schemas/shared.js'
import type { ApiKeyRow } from '../../storage/repositories/api-keys.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { ProjectRow } from '../../storage/repositories/organizations.js'
import type { UserRow } from '../../storage/repositories/users.js'
import type { Storage } from '../../storage/storage.js'
import { recordAudit, type Actor } from './audit.js'
import { toProjectUser, toServiceAccount, type ProjectKeyOwner } from './objects.js'

/** One list page from limit + 1 rows. */
export function pageOf<R, T extends { id: string }>(rows: R[], limit: number, map: (row: R) => T) {
  return toPage(rows.slice(0, limit).map(map), rows.length > limit)
}

/** The organization's project, or 404. */
export async function findProject(
  repos: Repos,
  orgId: string,
  projectId: string,
): Promise<ProjectRow> {
  const project = await repos.projects.get(projectId)
  if (!project || project.org_id !== orgId) throw notFound('project', projectId)
  return project
}

/** The project, which must be active (its users and service accounts are gone once archived). */
export async function activeProject(
  repos: Repos,
  orgId: string,
  projectId: string,
): Promise<ProjectRow> {
  const project = await findProject(repos, orgId, projectId)
  if (project.status !== 'active') throw projectArchived(projectId)
  return project
}

/** The user a key acts as: its owner, or for keys the system made, the organization's owner. */
export async function keyUser(repos: Repos, key: ApiKeyRow): Promise<UserRow | undefined> {
  if (key.owner_type === 'service_account') return undefined
  let userId = key.owner_id
  if (!userId) userId = (await repos.organizations.get(key.org_id))?.owner_user_id ?? null
  return userId ? repos.users.get(key.org_id, userId) : undefined
}

/** A project key's `owner`: the service account, or the user as a member of the key's project. */
export async function projectKeyOwner(repos: Repos, key: ApiKeyRow): Promise<ProjectKeyOwner> {
  const projectId = key.project_id!
  if (key.owner_type === 'service_account' && key.owner_id) {
    const account = await repos.serviceAccounts.get(projectId, key.owner_id)
    if (account) return { type: 'service_account', service_account: toServiceAccount(account) }
  }
  const user = await keyUser(repos, key)
  const member = user ? await repos.projectUsers.get(projectId, user.id) : undefined
  if (member) return { type: 'user', user: toProjectUser(member) }
  // the owner made by bootstrap, acting in a project it was never added to
  const fallback = user ?? { id: '', name: '', email: '', added_at: key.created_at }
  return {
    type: 'user',
    user: toProjectUser({
      project_id: projectId,
      user_id: fallback.id,
      role: 'owner',
      added_at: fallback.added_at,
      name: fallback.name,
      email: fallback.email,
    }),
  }
}

/** Deletes keys and records each deletion (keys revoked along with a user or account). */
export async function deleteKeys(
  tx: Storage,
  keys: ApiKeyRow[],
  actor: Actor,
  project?: ProjectRow,
) {
  const repos = createRepos(tx.db)
  for (const key of keys) {
    if (!(await repos.apiKeys.delete(key.id))) continue
    await recordAudit(tx, key.org_id, actor, {
      type: 'api_key.deleted',
      project: project ? { id: project.id, name: project.name } : undefined,
      details: { id: key.id, before: { name: key.name, redacted_value: key.redacted_value } },
    })
  }
}
