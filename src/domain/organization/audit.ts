import type { KeyOwner, Principal } from '../../principal.js'
import { toPage } from '../../schemas/shared.js'
import type { AuditLogFilter, AuditLogRow } from '../../storage/repositories/audit-logs.js'
import { createRepos } from '../../storage/repositories/index.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'

/** The event types Plinth records (a subset of the spec's AuditLogEventType). */
export type AuditEventType =
  | 'api_key.created'
  | 'api_key.updated'
  | 'api_key.deleted'
  | 'certificate.created'
  | 'certificate.updated'
  | 'certificate.deleted'
  | 'certificates.activated'
  | 'certificates.deactivated'
  | 'invite.sent'
  | 'invite.accepted'
  | 'invite.deleted'
  | 'project.created'
  | 'project.updated'
  | 'project.archived'
  | 'rate_limit.updated'
  | 'service_account.created'
  | 'service_account.deleted'
  | 'user.added'
  | 'user.updated'
  | 'user.deleted'
  | 'login.succeeded'
  | 'login.failed'
  | 'logout.succeeded'
  | 'checkpoint_permission.created'
  | 'checkpoint_permission.deleted'
  | PlinthAuditEventType

/**
 * Events OpenAI's audit log does not have (its event types list no fine-tuning job events), kept
 * for the owner all the same. `GET /organization/audit_logs` shows them only when
 * `event_types[]` names them, so a client that reads the spec's types never meets an unknown one.
 */
export const PLINTH_AUDIT_EVENT_TYPES = [
  'fine_tuning.job.created',
  'fine_tuning.job.cancelled',
  'fine_tuning.job.paused',
  'fine_tuning.job.resumed',
  // spend limits and alerts are newer than the spec's event types (docs/usage-and-limits.md)
  'spend_limit.updated',
  'spend_limit.deleted',
  'spend_alert.created',
  'spend_alert.updated',
  'spend_alert.deleted',
  'spend_alert.triggered',
] as const
export type PlinthAuditEventType = (typeof PLINTH_AUDIT_EVENT_TYPES)[number]

/** Who acted: a key (and the user or service account it belongs to), or a person directly. */
export type Actor =
  | { type: 'api_key'; keyId: string; owner?: KeyOwner }
  | { type: 'session'; user?: { id: string; email: string }; ip?: string }

export function actorOf(principal: Principal): Actor {
  return { type: 'api_key', keyId: principal.keyId, owner: principal.owner }
}

export type AuditEvent = {
  type: AuditEventType
  project?: { id: string; name: string }
  /**
   * The object under the event's type key, as the spec shapes it: `{ id, data }` for creations,
   * `{ id, changes_requested }` for updates, `{ id }` otherwise (certificates: `{ id, name }`,
   * `{ certificates: [...] }` for activations). Plinth adds `before` and `after`
   * (the object as it was and as it became; never a secret).
   */
  details: { id?: string } & Record<string, unknown>
}

/** Records an event; call it inside the transaction that makes the change. */
export async function recordAudit(tx: Storage, orgId: string, actor: Actor, event: AuditEvent) {
  const owner =
    actor.type === 'api_key' ? actor.owner : actor.user && { type: 'user' as const, ...actor.user }
  await createRepos(tx.db).auditLogs.insert({
    id: newId('audit_log-'),
    org_id: orgId,
    type: event.type,
    effective_at: nowSeconds(),
    project_id: event.project?.id ?? null,
    project_name: event.project?.name ?? null,
    actor_type: actor.type,
    actor_key_id: actor.type === 'api_key' ? actor.keyId : null,
    actor_owner_type: owner?.type ?? null,
    actor_owner_id: owner?.id ?? null,
    actor_email: owner?.type === 'user' ? owner.email : null,
    actor_ip: actor.type === 'session' ? (actor.ip ?? null) : null,
    resource_id: event.details.id ?? null,
    details: JSON.stringify(event.details),
  })
}

export function toAuditLog(row: AuditLogRow) {
  return {
    id: row.id,
    type: row.type,
    effective_at: row.effective_at,
    ...(row.project_id ? { project: { id: row.project_id, name: row.project_name ?? '' } } : {}),
    actor: toActor(row),
    [row.type]: JSON.parse(row.details),
  }
}

function toActor(row: AuditLogRow) {
  const user =
    row.actor_owner_type === 'user'
      ? { id: row.actor_owner_id!, email: row.actor_email ?? '' }
      : undefined
  if (row.actor_type === 'session') {
    return { type: 'session' as const, session: { user, ip_address: row.actor_ip ?? '' } }
  }
  const apiKey: Record<string, unknown> = { id: row.actor_key_id }
  if (user) Object.assign(apiKey, { type: 'user', user })
  else if (row.actor_owner_type === 'service_account') {
    Object.assign(apiKey, { type: 'service_account', service_account: { id: row.actor_owner_id } })
  }
  return { type: 'api_key' as const, api_key: apiKey }
}

/** GET /organization/audit_logs: every filter of the spec, cursor pagination both ways. */
export class AuditLogService {
  constructor(private readonly storage: Storage) {}

  async list(principal: Principal, filter: AuditLogFilter) {
    const { rows, hasMore } = await createRepos(this.storage.db).auditLogs.page(principal.orgId, {
      ...filter,
      hiddenTypes: [...PLINTH_AUDIT_EVENT_TYPES],
    })
    return toPage(rows.map(toAuditLog), hasMore)
  }
}
