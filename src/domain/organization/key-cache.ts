import { LRUCache } from 'lru-cache'
import type { Principal } from '../../principal.js'

/** How long a node may serve a cached principal unless told otherwise (`changes.maxStaleMs`). */
export const DEFAULT_MAX_STALE_MS = 1000

const CLOCK_RESOLUTION_MS = 1

/**
 * Recently authenticated keys, by secret hash. A database lookup per request was the largest
 * cost of a proxied call. Whatever revokes or narrows a key clears the cache on every node
 * (KeysService.revoked, through the change feed); an entry older than `ttlMs` is never served,
 * which bounds a change's delay when a notification is lost. lru-cache keeps the entries: a
 * lookup costs less than with the Map it replaced, as it reads the clock once a millisecond, not
 * on every lookup (bench/caches.ts).
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Principal> | undefined
  /** counts clears: a lookup that started before one must not store what it read */
  private generation = 0

  constructor(
    ttlMs = DEFAULT_MAX_STALE_MS,
    max = 10_000,
    /** a test's clock, then read on every lookup */
    clock?: { now(): number },
  ) {
    // lru-cache reads a ttl of 0 as "no expiry"; here it means "cache nothing"
    if (ttlMs <= 0) return
    // its clock may be a millisecond old (it reads it once a millisecond): the ttl leaves room
    // for that, so that no entry is served past `ttlMs`
    this.entries = clock
      ? new LRUCache({ max, ttl: ttlMs, perf: clock, ttlResolution: 0 })
      : new LRUCache({
          max,
          ttl: Math.max(1, ttlMs - CLOCK_RESOLUTION_MS),
          ttlResolution: CLOCK_RESOLUTION_MS,
        })
  }

  get(hash: string): Principal | undefined {
    return this.entries?.get(hash)
  }

  /** Pass to `set` the value this had when the lookup started. */
  get version(): number {
    return this.generation
  }

  set(hash: string, principal: Principal, version = this.generation) {
    if (version === this.generation) this.entries?.set(hash, principal)
  }

  clear() {
    this.entries?.clear()
    this.generation++
  }
}
