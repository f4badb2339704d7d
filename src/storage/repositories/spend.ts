import type { Kysely, Selectable } from 'kysely'
import type { Database } from '../tables.js'
import type { SpendAlertsTable, SpendLimitsTable } from '../tables-usage.js'

export type SpendLimitRow = Selectable<SpendLimitsTable>
export type SpendAlertRow = Selectable<SpendAlertsTable>

/** Spend limits and alerts (migration 0026). */
export class SpendRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** project id → its organization's id, for organization-wide sums */
  async projectOrgs(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('projects').select(['id', 'org_id']).execute()
    return new Map(rows.map((r) => [r.id, r.org_id]))
  }

  limits(): Promise<SpendLimitRow[]> {
    return this.db.selectFrom('spend_limits').selectAll().execute()
  }

  limit(scope: string): Promise<SpendLimitRow | undefined> {
    return this.db.selectFrom('spend_limits').selectAll().where('scope', '=', scope).executeTakeFirst()
  }

  async putLimit(row: SpendLimitRow) {
    await this.db
      .insertInto('spend_limits')
      .values(row)
      .onConflict((oc) => oc.column('scope').doUpdateSet({ threshold_amount: row.threshold_amount, updated_at: row.updated_at }))
      .execute()
  }

  async deleteLimit(scope: string): Promise<boolean> {
    const r = await this.db.deleteFrom('spend_limits').where('scope', '=', scope).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  alerts(): Promise<SpendAlertRow[]> {
    return this.db.selectFrom('spend_alerts').selectAll().execute()
  }

  /**
   * A page of a scope's alerts by id in `order`, plus one to tell whether more follow. `before`
   * alone reads backwards from the cursor and turns the page back to `order`.
   */
  async listAlerts(scope: string, q: { limit: number; after?: string; before?: string; order: 'asc' | 'desc' }): Promise<SpendAlertRow[]> {
    let query = this.db.selectFrom('spend_alerts').selectAll().where('scope', '=', scope)
    const desc = q.order === 'desc'
    if (q.after) query = query.where('id', desc ? '<' : '>', q.after)
    if (q.before) query = query.where('id', desc ? '>' : '<', q.before)
    const backwards = q.before !== undefined && q.after === undefined
    const rows = await query.orderBy('id', desc !== backwards ? 'desc' : 'asc').limit(q.limit + 1).execute()
    if (!backwards) return rows
    // the extra row is the one farthest from the cursor: it goes first once turned back
    const more = rows.length > q.limit
    const page = rows.slice(0, q.limit).reverse()
    return more ? [...page, rows[q.limit]] : page
  }

  alert(scope: string, id: string): Promise<SpendAlertRow | undefined> {
    return this.db.selectFrom('spend_alerts').selectAll().where('scope', '=', scope).where('id', '=', id).executeTakeFirst()
  }

  async insertAlert(row: SpendAlertRow) {
    await this.db.insertInto('spend_alerts').values(row).execute()
  }

  async updateAlert(id: string, values: Pick<SpendAlertRow, 'threshold_amount' | 'recipients' | 'subject_prefix'>) {
    await this.db.updateTable('spend_alerts').set(values).where('id', '=', id).execute()
  }

  async deleteAlert(scope: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('spend_alerts').where('scope', '=', scope).where('id', '=', id).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  /** Marks the alert fired for the month; false when it already was (by this node or another). */
  async markTriggered(id: string, month: string): Promise<boolean> {
    const r = await this.db
      .updateTable('spend_alerts')
      .set({ triggered_month: month })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('triggered_month', 'is', null), eb('triggered_month', '!=', month)]))
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }
}
