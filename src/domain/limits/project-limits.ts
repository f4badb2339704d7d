import type { RateLimitValues } from '../../storage/repositories/rate-limits.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'

type Overrides = Map<string, RateLimitValues>
type Entry = { overrides: Overrides; freshUntil: number; refreshing: boolean }

/**
 * Each project's own limits, kept in memory so that enforcing them costs no query per request.
 * An entry older than `ttlMs` is still served while one read refreshes it in the background, so
 * the request path waits for the database only the first time it meets a project. Changes made
 * on this node clear the entry at once; another node's changes are seen once `ttlMs` has passed
 * and the refresh it starts has read them. A ttl of 0 reads the database on every request.
 */
export class ProjectLimitsCache {
  private readonly entries = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<Overrides>>()

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  /** The project's overrides by model (a map, possibly empty). */
  get(projectId: string): Overrides | Promise<Overrides> {
    const entry = this.ttlMs > 0 ? this.entries.get(projectId) : undefined
    if (entry) {
      if (entry.freshUntil <= performance.now() && !entry.refreshing) {
        entry.refreshing = true
        this.load(projectId).catch(() => {
          entry.refreshing = false
        })
      }
      return entry.overrides
    }
    return this.load(projectId)
  }

  invalidate(projectId: string) {
    this.entries.delete(projectId)
    // a read started before the change must not store what it read
    this.loading.delete(projectId)
  }

  private load(projectId: string): Promise<Overrides> {
    const pending = this.loading.get(projectId)
    if (pending) return pending
    const started: Promise<Overrides> = createRepos(this.storage.db)
      .rateLimits.listForProject(projectId)
      .then((rows) => {
        if (this.loading.get(projectId) !== started) return this.get(projectId)
        const overrides: Overrides = new Map()
        for (const { project_id: _p, model, updated_at: _u, ...values } of rows) overrides.set(model, values)
        if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
        this.entries.set(projectId, { overrides, freshUntil: performance.now() + this.ttlMs, refreshing: false })
        return overrides
      })
      .finally(() => {
        if (this.loading.get(projectId) === started) this.loading.delete(projectId)
      })
    this.loading.set(projectId, started)
    return started
  }
}
