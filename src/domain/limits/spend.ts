import { insufficientQuota } from '../../errors.js'
import type { PricingConfig } from '../../config/limits.js'
import { apiLog } from '../../logger.js'
import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { SpendAlertRow } from '../../storage/repositories/spend.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { RollupResult } from '../../storage/repositories/usage-rollups.js'
import type { Storage } from '../../storage/storage.js'
import { costResults } from '../usage/costs.js'
import { PRICED } from '../usage/reports.js'
import { rollupsOf } from '../usage/rollup.js'
import { recordAudit } from '../organization/audit.js'

/** How often each node reads the month's spend again: other nodes' requests, batch lines, runs. */
export const SPEND_RELOAD_MS = 5_000
const BY_PROJECT: ReadonlySet<string> = new Set(['project_id'])
const PRICED_SET: ReadonlySet<string> = new Set(PRICED)

/** The first second of the calendar month (UTC) that holds `seconds`. */
export function monthStart(seconds: number): number {
  const d = new Date(seconds * 1000)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000
}

function monthName(start: number): string {
  return new Date(start * 1000).toISOString().slice(0, 7)
}

/**
 * Month-to-date spend per project, in cents, as GET /organization/costs prices it, kept in
 * memory so a request's check is one comparison (docs/usage-and-limits.md, "Spend limits").
 * It grows with each usage flush of this node and is read again from the rollups every
 * SPEND_RELOAD_MS, which brings in other nodes' spend (each node's view may lag that much).
 * Nothing runs while no spend limit or alert exists.
 */
export class SpendTracker {
  /** the scopes (project or organization ids) whose limit is reached: what requests check */
  readonly over = new Set<string>()
  private spent = new Map<string, number>()
  private projectOrgs = new Map<string, string>()
  private limits = new Map<string, number>()
  private alerts: SpendAlertRow[] = []
  private month = 0
  private timer: NodeJS.Timeout | undefined
  private loading: Promise<void> | undefined
  private stopped = false
  private readonly unsubscribe: () => void

  constructor(
    private readonly storage: Storage,
    private readonly pricing: PricingConfig,
    /** waits for this node's usage rows, so a reader sees its own requests */
    private readonly settled: () => Promise<void> = async () => {},
  ) {
    // a limit or alert changed on another node (or this one): read them again at once, even on a
    // node that had none and so no periodic reload
    this.unsubscribe = storage.changes.subscribe('spend', () => void this.reload().catch((err) => apiLog.warn({ err }, 'spend reload failed')))
  }

  /** The request path: throws OpenAI's quota error when the project's or organization's limit is reached. */
  check(principal: Principal): void {
    if (this.over.has(principal.projectId!) || this.over.has(principal.orgId)) throw insufficientQuota()
  }

  /** Reads limits, alerts and the month's spend; starts the periodic reload while any exist. */
  async start(): Promise<void> {
    await this.reload()
  }

  /** For good (shutdown): no more reloads, the limits as last read stay. */
  stop(): void {
    this.stopped = true
    this.unsubscribe()
    this.idle()
  }

  private idle(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reads everything again (after a change through the API, and every SPEND_RELOAD_MS). */
  reload(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    // a reload asked for while one runs waits for it and then runs again: it may see the change
    const next = (this.loading ?? Promise.resolve()).then(() => this.load())
    const mine = next.finally(() => {
      if (this.loading === mine) this.loading = undefined
    })
    this.loading = mine
    return mine
  }

  private async load(): Promise<void> {
    const repos = createRepos(this.storage.db)
    const [limits, alerts] = await Promise.all([repos.spend.limits(), repos.spend.alerts()])
    this.limits = new Map(limits.map((l) => [l.scope, Number(l.threshold_amount)]))
    this.alerts = alerts
    if (!this.limits.size && !this.alerts.length) {
      this.idle()
      this.spent.clear()
      this.over.clear()
      return
    }
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.reload().catch((err) => apiLog.warn({ err }, 'spend reload failed')), SPEND_RELOAD_MS)
      this.timer.unref()
    }
    const month = monthStart(Date.now() / 1000)
    const next = new Date(month * 1000)
    next.setUTCMonth(next.getUTCMonth() + 1)
    const [rows, orgs] = await Promise.all([
      repos.usageRollups.query({
        operations: PRICED,
        width: '1d',
        from: month,
        to: next.getTime() / 1000,
        groupBy: ['project_id', 'model', 'operation'],
      }),
      repos.spend.projectOrgs(),
    ])
    this.month = month
    this.projectOrgs = orgs
    this.spent = new Map()
    this.add(rows)
    await this.evaluate()
  }

  /**
   * A usage flush of this node: its rows' cost is added to the month. Runs once per flush (not
   * per request), and not at all while no limit or alert exists.
   */
  flushed(records: readonly UsageRecordInsert[]): Promise<void> | undefined {
    if (!this.timer) return undefined
    if (monthStart(Date.now() / 1000) !== this.month) {
      return this.reload().catch((err) => void apiLog.warn({ err }, 'spend reload failed'))
    }
    const rows = rollupsOf(records).filter((r) => r.bucket_width === '1d' && r.bucket_start >= this.month && PRICED_SET.has(r.operation))
    this.add(rows as unknown as RollupResult[])
    return this.evaluate()
  }

  private add(rows: RollupResult[]) {
    for (const r of costResults(rows, this.pricing, BY_PROJECT)) {
      const project = String(r.project_id)
      const cents = (r.amount as { value: number }).value * 100
      this.spent.set(project, (this.spent.get(project) ?? 0) + cents)
    }
  }

  /** Month-to-date spend of a scope (a project, or all of an organization's projects), in cents. */
  spentCents(scope: string): number {
    const own = this.spent.get(scope)
    if (own !== undefined) return own
    let sum = 0
    for (const [project, cents] of this.spent) if (this.projectOrgs.get(project) === scope) sum += cents
    return sum
  }

  /** The current state of a scope's limit, after this node's pending usage is counted. */
  async enforcing(scope: string): Promise<boolean> {
    await this.settled()
    return this.over.has(scope)
  }

  /** Which limits are reached; fires the alerts crossed, once a month each. */
  private evaluate(): Promise<void> | undefined {
    this.over.clear()
    for (const [scope, threshold] of this.limits) if (this.spentCents(scope) >= threshold - 1e-9) this.over.add(scope)
    const name = monthName(this.month)
    const crossed = this.alerts.filter((a) => {
      if (a.triggered_month === name) return false
      const spent = this.spentCents(a.scope)
      return spent > 0 && spent >= Number(a.threshold_amount) - 1e-9
    })
    if (!crossed.length) return undefined
    return Promise.all(crossed.map((a) => this.fire(a, name))).then(() => undefined)
  }

  /** Records `spend_alert.triggered`, unless another node (or an earlier flush) already did. */
  private async fire(alert: SpendAlertRow, month: string): Promise<void> {
    alert.triggered_month = month
    const spent = Math.round(this.spentCents(alert.scope) * 1e6) / 1e6
    try {
      await this.storage.transaction(async (tx) => {
        const repos = createRepos(tx.db)
        if (!(await repos.spend.markTriggered(alert.id, month))) return
        const orgId = alert.kind === 'organization' ? alert.scope : this.projectOrgs.get(alert.scope)
        const project = alert.kind === 'project' ? await repos.projects.get(alert.scope) : undefined
        await recordAudit(tx, orgId ?? project?.org_id ?? '', { type: 'session' }, {
          type: 'spend_alert.triggered',
          ...(project ? { project: { id: project.id, name: project.name } } : {}),
          details: { id: alert.id, threshold_amount: Number(alert.threshold_amount), currency: 'USD', interval: 'month', month, spent_amount: spent },
        })
      })
    } catch (err) {
      alert.triggered_month = null
      apiLog.warn({ err, alert: alert.id }, 'could not record a spend alert')
    }
  }
}
