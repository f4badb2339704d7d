import type { Kysely, Selectable } from 'kysely'
import type { AuditLogsTable, Database } from '../tables.js'

export type AuditLogRow = Selectable<AuditLogsTable>

export type AuditLogFilter = {
  effectiveAt?: { gt?: number; gte?: number; lt?: number; lte?: number }
  projectIds?: string[]
  types?: string[]
  /** types left out unless `types` names them (Plinth's own events, outside the spec's enum) */
  hiddenTypes?: string[]
  /** a key id, a user id or a service account id */
  actorIds?: string[]
  actorEmails?: string[]
  resourceIds?: string[]
  after?: string
  before?: string
  limit: number
}

/** The audit log, newest first (ids are time-sortable). */
export class AuditLogsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AuditLogRow) {
    await this.db.insertInto('audit_logs').values(row).execute()
  }

  /**
   * One page, newest first. `after` pages towards older entries, `before` towards newer ones;
   * `hasMore` says whether more lie further in the direction of paging.
   */
  async page(
    orgId: string,
    filter: AuditLogFilter,
  ): Promise<{ rows: AuditLogRow[]; hasMore: boolean }> {
    let q = this.db.selectFrom('audit_logs').selectAll().where('org_id', '=', orgId)
    const at = filter.effectiveAt
    if (at?.gt !== undefined) q = q.where('effective_at', '>', at.gt)
    if (at?.gte !== undefined) q = q.where('effective_at', '>=', at.gte)
    if (at?.lt !== undefined) q = q.where('effective_at', '<', at.lt)
    if (at?.lte !== undefined) q = q.where('effective_at', '<=', at.lte)
    const anyOf = (values: string[]) => (values.length ? values : [''])
    if (filter.projectIds) q = q.where('project_id', 'in', anyOf(filter.projectIds))
    if (filter.types) q = q.where('type', 'in', anyOf(filter.types))
    else if (filter.hiddenTypes?.length) q = q.where('type', 'not in', filter.hiddenTypes)
    if (filter.resourceIds) q = q.where('resource_id', 'in', anyOf(filter.resourceIds))
    if (filter.actorEmails) q = q.where('actor_email', 'in', anyOf(filter.actorEmails))
    if (filter.actorIds) {
      const ids = anyOf(filter.actorIds)
      q = q.where((eb) => eb.or([eb('actor_key_id', 'in', ids), eb('actor_owner_id', 'in', ids)]))
    }
    if (filter.after) q = q.where('id', '<', filter.after)
    if (filter.before) q = q.where('id', '>', filter.before)
    // with only `before`, the page is the oldest entries newer than it, shown newest first
    const towardsNewer = filter.before !== undefined && filter.after === undefined
    const rows = await q
      .orderBy('id', towardsNewer ? 'asc' : 'desc')
      .limit(filter.limit + 1)
      .execute()
    const hasMore = rows.length > filter.limit
    const page = rows.slice(0, filter.limit)
    return { rows: towardsNewer ? page.reverse() : page, hasMore }
  }
}
