import type { AppContext } from '../../context.js'
import { readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import { AuditLogListQuery } from '../../schemas/organization.js'

export function auditLogsRoutes(ctx: AppContext): RouteDef[] {
  const { auditLogs } = ctx.services.admin
  return [
    {
      // spec: list-audit-logs
      method: 'GET',
      path: '/organization/audit_logs',
      operationId: 'list-audit-logs',
      scope: 'admin',
      handler: async (c) => {
        const q = readQuery(c, AuditLogListQuery)
        return c.json(
          await auditLogs.list(c.var.principal, {
            effectiveAt: q.effective_at,
            projectIds: q.project_ids,
            types: q.event_types,
            actorIds: q.actor_ids,
            actorEmails: q.actor_emails?.map((e) => e.trim().toLowerCase()),
            resourceIds: q.resource_ids,
            after: q.after,
            before: q.before,
            limit: q.limit,
          }),
        )
      },
    },
  ]
}
