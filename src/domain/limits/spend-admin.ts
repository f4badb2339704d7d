import { notFound, projectArchived } from '../../errors.js'
import type { Principal } from '../../principal.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { SpendAlertRow } from '../../storage/repositories/spend.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { actorOf, recordAudit } from '../organization/audit.js'
import { findProject } from '../organization/shared.js'
import type { SpendTracker } from './spend.js'

/** A limit or an alert of the organization (project undefined) or of one project. */
type Kind = 'organization' | 'project'
export type SpendLimitBody = { threshold_amount: number; currency: 'USD'; interval: 'month' }
export type SpendAlertBody = SpendLimitBody & {
  notification_channel: { type: 'email'; recipients: string[]; subject_prefix?: string | null }
}

/**
 * The spend limits and alerts endpoints (admin keys): `/organization/spend_limit`,
 * `/organization/spend_alerts` and their project variants. Each change is audit-logged and makes
 * every node's tracker read the limits again (the change feed), so this node enforces it at once
 * and the others within moments (within SPEND_RELOAD_MS should a notice be lost).
 */
export class SpendAdmin {
  constructor(
    private readonly storage: Storage,
    private readonly tracker: SpendTracker,
  ) {}

  async getLimit(principal: Principal, projectId?: string) {
    const { scope, kind } = await this.scope(principal, projectId)
    const row = await createRepos(this.storage.db).spend.limit(scope)
    if (!row) throw notFound(`${kind === 'project' ? 'project ' : ''}spend limit`, scope)
    return this.limitObject(kind, scope, Number(row.threshold_amount))
  }

  async putLimit(principal: Principal, body: SpendLimitBody, projectId?: string) {
    const { scope, kind, project } = await this.scope(principal, projectId, true)
    await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await repos.spend.limit(scope)
      await repos.spend.putLimit({ scope, kind, threshold_amount: body.threshold_amount, updated_at: nowSeconds() })
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'spend_limit.updated',
        project,
        details: {
          id: scope,
          changes_requested: body,
          before: before ? { threshold_amount: Number(before.threshold_amount) } : null,
        },
      })
    })
    await this.changed()
    return this.limitObject(kind, scope, body.threshold_amount)
  }

  async deleteLimit(principal: Principal, projectId?: string) {
    const { scope, kind, project } = await this.scope(principal, projectId)
    const deleted = await this.storage.transaction(async (tx) => {
      if (!(await createRepos(tx.db).spend.deleteLimit(scope))) return false
      await recordAudit(tx, principal.orgId, actorOf(principal), { type: 'spend_limit.deleted', project, details: { id: scope } })
      return true
    })
    if (!deleted) throw notFound(`${kind === 'project' ? 'project ' : ''}spend limit`, scope)
    await this.changed()
    return { object: `${kind}.spend_limit.deleted` as const, deleted: true }
  }

  async listAlerts(principal: Principal, q: { limit: number; after?: string; before?: string; order?: 'asc' | 'desc' }, projectId?: string) {
    const { scope, kind } = await this.scope(principal, projectId)
    const rows = await createRepos(this.storage.db).spend.listAlerts(scope, { ...q, order: q.order ?? 'asc' })
    const more = rows.length > q.limit
    const page = rows.slice(0, q.limit)
    return toPage(page.map((r) => alertObject(kind, r)), more) as ListPage<ReturnType<typeof alertObject>>
  }

  async getAlert(principal: Principal, alertId: string, projectId?: string) {
    const { scope, kind } = await this.scope(principal, projectId)
    const row = await createRepos(this.storage.db).spend.alert(scope, alertId)
    if (!row) throw notFound('spend alert', alertId, 'alert_id')
    return alertObject(kind, row)
  }

  async createAlert(principal: Principal, body: SpendAlertBody, projectId?: string) {
    const { scope, kind, project } = await this.scope(principal, projectId, true)
    const row: SpendAlertRow = {
      id: newId('spend_alert_'),
      scope,
      kind,
      threshold_amount: body.threshold_amount,
      recipients: JSON.stringify(body.notification_channel.recipients),
      subject_prefix: body.notification_channel.subject_prefix ?? null,
      created_at: nowSeconds(),
      triggered_month: null,
    }
    await this.storage.transaction(async (tx) => {
      await createRepos(tx.db).spend.insertAlert(row)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'spend_alert.created',
        project,
        details: { id: row.id, data: body },
      })
    })
    await this.changed()
    return alertObject(kind, row)
  }

  async updateAlert(principal: Principal, alertId: string, body: SpendAlertBody, projectId?: string) {
    const { scope, kind, project } = await this.scope(principal, projectId, true)
    const row = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = await repos.spend.alert(scope, alertId)
      if (!before) throw notFound('spend alert', alertId, 'alert_id')
      const values = {
        threshold_amount: body.threshold_amount,
        recipients: JSON.stringify(body.notification_channel.recipients),
        subject_prefix: body.notification_channel.subject_prefix ?? null,
      }
      await repos.spend.updateAlert(alertId, values)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'spend_alert.updated',
        project,
        details: { id: alertId, changes_requested: body, before: alertObject(kind, before) },
      })
      return { ...before, ...values }
    })
    await this.changed()
    return alertObject(kind, row)
  }

  async deleteAlert(principal: Principal, alertId: string, projectId?: string) {
    const { scope, kind, project } = await this.scope(principal, projectId)
    const deleted = await this.storage.transaction(async (tx) => {
      if (!(await createRepos(tx.db).spend.deleteAlert(scope, alertId))) return false
      await recordAudit(tx, principal.orgId, actorOf(principal), { type: 'spend_alert.deleted', project, details: { id: alertId } })
      return true
    })
    if (!deleted) throw notFound('spend alert', alertId, 'alert_id')
    await this.changed()
    return { id: alertId, object: `${kind}.spend_alert.deleted` as const, deleted: true }
  }

  /** This node reads the limits again before answering; the others hear of it through the change feed. */
  private async changed() {
    await this.storage.changes.publish('spend')
    await this.tracker.reload()
  }

  private async limitObject(kind: Kind, scope: string, threshold: number) {
    const enforcing = await this.tracker.enforcing(scope)
    return {
      object: `${kind}.spend_limit` as const,
      threshold_amount: threshold,
      currency: 'USD',
      interval: 'month',
      enforcement: { status: enforcing ? 'enforcing' : 'inactive' },
    }
  }

  /** The organization's scope, or the project's (404 unless it is the organization's; changes need it active). */
  private async scope(principal: Principal, projectId: string | undefined, changing = false) {
    if (projectId === undefined) return { scope: principal.orgId, kind: 'organization' as Kind, project: undefined }
    const project = await findProject(createRepos(this.storage.db), principal.orgId, projectId)
    if (changing && project.status !== 'active') throw projectArchived(projectId)
    return { scope: project.id, kind: 'project' as Kind, project: { id: project.id, name: project.name } }
  }
}

function alertObject(kind: Kind, row: SpendAlertRow) {
  return {
    id: row.id,
    object: `${kind}.spend_alert` as const,
    threshold_amount: Number(row.threshold_amount),
    currency: 'USD' as const,
    interval: 'month' as const,
    notification_channel: {
      type: 'email' as const,
      recipients: JSON.parse(row.recipients) as string[],
      subject_prefix: row.subject_prefix,
    },
  }
}
