// npx tsx bench/caches.ts: ns per cache lookup (a hit, or a miss and its store), hand-written Maps
// against lru-cache (issue 17: a library where it costs nothing measurable). First the principal
// cache (KeyCache on lru-cache against the Map with expiry times it replaced), then a bounded
// memo without expiry (the SQLite statement cache, the rate-limit plans) against lru-cache.
// KEYS=n sets how many keys take turns (100 by default).
import { LRUCache } from 'lru-cache'
import { KeyCache } from '../src/domain/organization/key-cache.js'
import type { Principal } from '../src/principal.js'

const KEYS = Number(process.env.KEYS ?? 100)
const OPS = 2_000_000
const ROUNDS = 7
const principal: Principal = { orgId: 'org', projectId: 'proj', keyId: 'key', kind: 'project', permissions: { mode: 'all' } }
const hashes = Array.from({ length: KEYS }, (_, i) => `${i}`.padStart(64, 'a'))

/** The hand-written cache before the switch: a Map of entries with their expiry, oldest evicted. */
class MapCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAt: number }>()
  constructor(
    private readonly ttlMs = 1000,
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
}

/** The statement cache's and the plans' pattern: a Map bounded by dropping its oldest entry. */
class BoundedMap {
  private readonly entries = new Map<string, Principal>()
  constructor(private readonly max = 500) {}
  get(key: string) {
    return this.entries.get(key)
  }
  set(key: string, value: Principal) {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, value)
  }
}

type Subject = { get(hash: string): Principal | undefined; set(hash: string, p: Principal): void }
const map = new MapCache()
const keyCache = new KeyCache(1000)
const exact = new LRUCache<string, Principal>({ max: 10_000, ttl: 1000, ttlResolution: 0 })
const bounded = new BoundedMap(10_000)
const lru = new LRUCache<string, Principal>({ max: 10_000 })
const subjects: [string, Subject][] = [
  ['Map with expiry (before)', { get: (h) => map.get(h), set: (h, p) => map.set(h, p) }],
  ['KeyCache on lru-cache', { get: (h) => keyCache.get(h), set: (h, p) => keyCache.set(h, p) }],
  ['lru-cache, clock every get', { get: (h) => exact.get(h), set: (h, p) => void exact.set(h, p) }],
  ['bounded Map, no expiry', { get: (h) => bounded.get(h), set: (h, p) => bounded.set(h, p) }],
  ['lru-cache, no expiry', { get: (h) => lru.get(h), set: (h, p) => void lru.set(h, p) }],
]

function run(subject: Subject): number {
  let found = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < OPS; i++) {
    const hash = hashes[i % KEYS]
    if (subject.get(hash)) found++
    else subject.set(hash, principal)
  }
  const ns = Number(process.hrtime.bigint() - started) / OPS
  if (found < OPS / 2) throw new Error('the cache missed')
  return ns
}

const results = new Map<string, number[]>(subjects.map(([name]) => [name, []]))
// rounds alternate the subjects so that load from elsewhere hits them alike
for (let round = 0; round < ROUNDS; round++) for (const [name, subject] of subjects) results.get(name)!.push(run(subject))
console.log(`${KEYS} keys, ${OPS} lookups a round, ${ROUNDS} rounds`)
for (const [name, samples] of results) {
  samples.sort((a, b) => a - b)
  console.log(name.padEnd(28), 'median ns/lookup', samples[Math.floor(samples.length / 2)].toFixed(1), ' all:', samples.map((s) => s.toFixed(1)).join(' '))
}
