import type { RateLimitValues } from '../../storage/repositories/rate-limits.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'

type Overrides = Map<string, RateLimitValues>
type Entry = { overrides: Overrides; readAt: number; refreshing: boolean }

/**
 * Each project's own limits, kept in memory so that enforcing them costs no query per request.
 * A change clears the project's entry on every node (`rate_limits` on the change feed). An entry
 * is never served once older than `maxAgeMs` (the request waits for a fresh read then), which
 * bounds a change's delay when a notification is lost; past half that age, one read refreshes
 * it in the background, so a busy project's requests seldom wait. A max age of 0 reads the
 * database on every request.
 */
export class ProjectLimitsCache {
  private readonly entries = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<Overrides>>()

  constructor(
    private readonly storage: Storage,
    private readonly maxAgeMs: number,
    private readonly max = 10_000,
  ) {
    storage.changes.subscribe('rate_limits', (projectId) => (projectId ? this.invalidate(projectId) : this.clear()))
  }

  /** The project's overrides by model (a map, possibly empty). */
  get(projectId: string): Overrides | Promise<Overrides> {
    const entry = this.maxAgeMs > 0 ? this.entries.get(projectId) : undefined
    if (entry) {
      const age = performance.now() - entry.readAt
      if (age < this.maxAgeMs) {
        if (age >= this.maxAgeMs / 2 && !entry.refreshing) {
          entry.refreshing = true
          this.load(projectId).catch(() => {
            entry.refreshing = false
          })
        }
        return entry.overrides
      }
      this.entries.delete(projectId)
    }
    return this.load(projectId)
  }

  invalidate(projectId: string) {
    this.entries.delete(projectId)
    // a read started before the change must not store what it read
    this.loading.delete(projectId)
  }

  /** Everything may have changed (notifications were missed). */
  clear() {
    this.entries.clear()
    this.loading.clear()
  }

  private load(projectId: string): Promise<Overrides> {
    const pending = this.loading.get(projectId)
    if (pending) return pending
    // the age counts from before the read: what it finds is at least this fresh
    const readAt = performance.now()
    const started: Promise<Overrides> = createRepos(this.storage.db)
      .rateLimits.listForProject(projectId)
      .then((rows) => {
        if (this.loading.get(projectId) !== started) return this.get(projectId)
        const overrides: Overrides = new Map()
        for (const { project_id: _p, model, updated_at: _u, ...values } of rows) overrides.set(model, values)
        if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
        this.entries.set(projectId, { overrides, readAt, refreshing: false })
        return overrides
      })
      .finally(() => {
        if (this.loading.get(projectId) === started) this.loading.delete(projectId)
      })
    this.loading.set(projectId, started)
    return started
  }
}
