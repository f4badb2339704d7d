import type { AppContext } from '../../context.js'
import type { RouteDef } from '../../http/routes.js'
import { adminApiKeysRoutes } from './admin-api-keys.js'
import { auditLogsRoutes } from './audit-logs.js'
import { certificatesRoutes } from './certificates.js'
import { invitesRoutes } from './invites.js'
import { modelPermissionsRoutes } from './model-permissions.js'
import { projectApiKeysRoutes } from './project-api-keys.js'
import { projectUsersRoutes } from './project-users.js'
import { projectsRoutes } from './projects.js'
import { serviceAccountsRoutes } from './service-accounts.js'
import { spendRoutes } from './spend.js'
import { usersRoutes } from './users.js'

/** The Administration API's organization half: users, invites, projects and their members, keys, audit logs, certificates, spend limits and alerts. */
export function organizationRoutes(ctx: AppContext): RouteDef[] {
  return [
    ...usersRoutes(ctx),
    ...invitesRoutes(ctx),
    ...projectsRoutes(ctx),
    ...modelPermissionsRoutes(ctx),
    ...projectUsersRoutes(ctx),
    ...serviceAccountsRoutes(ctx),
    ...projectApiKeysRoutes(ctx),
    ...adminApiKeysRoutes(ctx),
    ...auditLogsRoutes(ctx),
    ...certificatesRoutes(ctx),
    ...spendRoutes(ctx),
  ]
}
