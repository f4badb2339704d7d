import type { Principal } from '../../principal.js'

/** How long a node may serve a cached principal unless told otherwise (`changes.maxStaleMs`). */
export const DEFAULT_MAX_STALE_MS = 1000

/**
 * Recently authenticated keys, by secret hash. A database lookup per request was the largest
 * cost of a proxied call. Whatever revokes or narrows a key clears the cache on every node
 * (KeysService.revoked, through the change feed); an entry older than `ttlMs` is never served,
 * which bounds a change's delay when a notification is lost.
 */
export class KeyCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAt: number }>()
  /** counts clears: a lookup that started before one must not store what it read */
  private generation = 0

  constructor(
    private readonly ttlMs = DEFAULT_MAX_STALE_MS,
    private readonly max = 10_000,
  ) {}

  get(hash: string, now = performance.now()): Principal | undefined {
    const entry = this.entries.get(hash)
    if (!entry) return undefined
    if (entry.expiresAt <= now) {
      this.entries.delete(hash)
      return undefined
    }
    return entry.principal
  }

  /** Pass to `set` the value this had when the lookup started. */
  get version(): number {
    return this.generation
  }

  set(hash: string, principal: Principal, version = this.generation, now = performance.now()) {
    if (this.ttlMs <= 0 || version !== this.generation) return
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(hash, { principal, expiresAt: now + this.ttlMs })
  }

  clear() {
    this.entries.clear()
    this.generation++
  }
}
