import type { Principal } from '../../principal.js'

/**
 * Recently authenticated keys, by secret hash. A database lookup per request was the largest
 * cost of a proxied call; a short TTL keeps the hit rate near 100% under load while bounding how
 * long another node's revocation can go unseen. Changes made on this node (revoking a key,
 * archiving a project) clear the cache at once.
 */
export class KeyCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAt: number }>()

  constructor(
    private readonly ttlMs = 2000,
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

  set(hash: string, principal: Principal, now = performance.now()) {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(hash, { principal, expiresAt: now + this.ttlMs })
  }

  clear() {
    this.entries.clear()
  }
}
