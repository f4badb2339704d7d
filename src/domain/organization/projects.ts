import { projectArchived } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { ProjectRow } from '../../storage/repositories/organizations.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from './audit.js'
import type { KeysService } from './keys.js'
import { toProject } from './objects.js'
import { activeProject, findProject, pageOf } from './shared.js'

type ModelPermissions = { mode: 'allow_list' | 'deny_list'; model_ids: string[] }

/**
 * Projects: create, list, retrieve, rename, archive (which stops the project's keys at once on
 * this node, within the key cache's 2 s elsewhere), and their model permissions.
 */
export class ProjectsService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeysService,
  ) {}

  async create(principal: Principal, name: string) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const now = nowSeconds()
      const project: ProjectRow = {
        id: newId('proj_'),
        org_id: principal.orgId,
        name,
        status: 'active',
        created_at: now,
        archived_at: null,
        model_mode: null,
        model_ids: null,
        request_log_bodies: 0,
      }
      await repos.projects.insert(project)
      // whoever creates a project owns it, as in OpenAI's dashboard
      if (principal.owner?.type === 'user') {
        await repos.projectUsers.insert({
          project_id: project.id,
          user_id: principal.owner.id,
          role: 'owner',
          added_at: now,
        })
      }
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'project.created',
        project: { id: project.id, name },
        details: { id: project.id, data: { name, title: name }, after: toProject(project) },
      })
      return toProject(project)
    })
  }

  async list(
    principal: Principal,
    query: { after?: string; limit: number; include_archived?: boolean },
  ) {
    const rows = await createRepos(this.storage.db).projects.page(principal.orgId, {
      ...query,
      includeArchived: query.include_archived ?? false,
    })
    return pageOf(rows, query.limit, toProject)
  }

  async get(principal: Principal, id: string) {
    return toProject(await findProject(createRepos(this.storage.db), principal.orgId, id))
  }

  async update(principal: Principal, id: string, name: string) {
    return this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await activeProject(repos, principal.orgId, id)
      await repos.projects.rename(id, name)
      const after = { ...before, name }
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'project.updated',
        project: { id, name },
        details: {
          id,
          changes_requested: { title: name },
          before: toProject(before),
          after: toProject(after),
        },
      })
      return toProject(after)
    })
  }

  /**
   * Archives the project; its keys stop working. An archived project is a 400 `project_archived`,
   * as at OpenAI: it can no longer be updated, and archiving is an update.
   */
  async archive(principal: Principal, id: string) {
    const result = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await activeProject(repos, principal.orgId, id)
      const now = nowSeconds()
      // archived meanwhile by another request
      if (!(await repos.projects.archive(id, now))) throw projectArchived(id)
      const after: ProjectRow = { ...before, status: 'archived', archived_at: now }
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'project.archived',
        project: { id, name: before.name },
        details: { id, before: toProject(before), after: toProject(after) },
      })
      return toProject(after)
    })
    await this.keys.revoked()
    return result
  }

  async modelPermissions(principal: Principal, id: string) {
    return toModelPermissions(await findProject(createRepos(this.storage.db), principal.orgId, id))
  }

  /** Sets (or with null, lifts) the project's model allow or deny list. */
  async setModelPermissions(
    principal: Principal,
    id: string,
    permissions: ModelPermissions | null,
  ) {
    const result = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await activeProject(repos, principal.orgId, id)
      const modelIds = permissions ? [...new Set(permissions.model_ids)] : null
      await repos.projects.setModelPolicy(id, permissions?.mode ?? null, modelIds)
      const after: ProjectRow = {
        ...before,
        model_mode: permissions?.mode ?? null,
        model_ids: modelIds ? JSON.stringify(modelIds) : null,
      }
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'project.updated',
        project: { id, name: before.name },
        details: {
          id,
          changes_requested: {
            model_permissions: permissions ? { mode: permissions.mode, model_ids: modelIds } : null,
          },
          before: { model_permissions: toModelPermissions(before) },
          after: { model_permissions: toModelPermissions(after) },
        },
      })
      return toModelPermissions(after)
    })
    // the project's keys carry its model policy: forget them
    await this.keys.revoked()
    return result
  }

  /** Whether the dashboard's request log keeps this project's prompt and answer text (Plinth's own setting). */
  async requestLogBodies(principal: Principal, id: string): Promise<boolean> {
    return Number((await findProject(createRepos(this.storage.db), principal.orgId, id)).request_log_bodies) === 1
  }

  /** Turns the request log's prompt and answer text on or off for the project, audited as a project update. */
  async setRequestLogBodies(principal: Principal, id: string, on: boolean) {
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await activeProject(repos, principal.orgId, id)
      await repos.projects.setRequestLogBodies(id, on)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'project.updated',
        project: { id, name: before.name },
        details: {
          id,
          changes_requested: { request_log_bodies: on },
          before: { request_log_bodies: Number(before.request_log_bodies) === 1 },
          after: { request_log_bodies: on },
        },
      })
    })
    // the project's keys carry the setting (Principal.logBodies): forget them
    await this.keys.revoked()
    return on
  }
}

/** OpenAI's `project.model_permissions`; a project without a policy is a deny list of nothing. */
function toModelPermissions(project: ProjectRow) {
  return {
    object: 'project.model_permissions' as const,
    mode: project.model_mode ?? ('deny_list' as const),
    model_ids: project.model_ids ? (JSON.parse(project.model_ids) as string[]) : [],
  }
}
