import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { AdminKeysService } from './admin-keys.js'
import { AuditLogService, type Actor } from './audit.js'
import { CertificatesService } from './certificates.js'
import { InvitesService } from './invites.js'
import type { KeysService } from './keys.js'
import { ProjectKeysService } from './project-keys.js'
import { ProjectUsersService } from './project-users.js'
import { ProjectsService } from './projects.js'
import { ServiceAccountsService } from './service-accounts.js'
import { SessionAudit } from './sessions.js'
import { UsersService } from './users.js'

/** The Administration API's services (users, invites, projects and their members, keys, audit logs). */
export function createAdminServices(storage: Storage, keys: KeysService) {
  return {
    users: new UsersService(storage, keys),
    invites: new InvitesService(storage),
    projects: new ProjectsService(storage, keys),
    projectUsers: new ProjectUsersService(storage, keys),
    serviceAccounts: new ServiceAccountsService(storage, keys),
    projectKeys: new ProjectKeysService(storage, keys),
    adminKeys: new AdminKeysService(storage, keys),
    auditLogs: new AuditLogService(storage),
    certificates: new CertificatesService(storage, keys),
    /** Dashboard sign-ins and sign-outs in the audit log. */
    sessions: new SessionAudit(storage),
  }
}

export type AdminServices = ReturnType<typeof createAdminServices>

/** Who acts from the command line: the organization's owner, in a local session. */
export async function cliActor(storage: Storage, orgId: string): Promise<Actor> {
  const repos = createRepos(storage.db)
  const ownerId = (await repos.organizations.get(orgId))?.owner_user_id
  const owner = ownerId ? await repos.users.get(orgId, ownerId) : undefined
  return {
    type: 'session',
    user: { id: owner?.id ?? '', email: owner?.email ?? '' },
    ip: '127.0.0.1',
  }
}
