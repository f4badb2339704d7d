import { describe, expect, it } from 'vitest'
import type { Principal } from '../../principal.js'
import { KeyCache } from './key-cache.js'

const principal: Principal = { orgId: 'org_1', projectId: 'proj_1', keyId: 'key_1', kind: 'project', permissions: { mode: 'all' } }

function clockAt(ms: number) {
  const clock = { ms, now: () => clock.ms }
  return clock
}

describe('KeyCache', () => {
  it('never serves an entry once older than its bound', () => {
    const clock = clockAt(5000)
    const cache = new KeyCache(1000, 10, clock)
    cache.set('h', principal, cache.version)
    clock.ms = 6000
    expect(cache.get('h')).toBe(principal)
    clock.ms = 6001
    expect(cache.get('h')).toBeUndefined()
  })

  it('drops what a lookup started before a clear found (a revocation that raced it)', () => {
    const cache = new KeyCache(1000, 10, clockAt(5000))
    const version = cache.version
    cache.clear()
    cache.set('h', principal, version)
    expect(cache.get('h')).toBeUndefined()
    cache.set('h', principal, cache.version)
    expect(cache.get('h')).toBe(principal)
    cache.clear()
    expect(cache.get('h')).toBeUndefined()
  })

  it('a bound of 0 caches nothing', () => {
    const cache = new KeyCache(0)
    cache.set('h', principal, cache.version)
    expect(cache.get('h')).toBeUndefined()
  })

  it('holds at most `max` keys, the least recently used going first', () => {
    const cache = new KeyCache(1000, 2, clockAt(5000))
    cache.set('a', principal)
    cache.set('b', principal)
    expect(cache.get('a')).toBe(principal)
    cache.set('c', principal)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(principal)
    expect(cache.get('c')).toBe(principal)
  })

  it('expires on the real clock too', async () => {
    const cache = new KeyCache(20)
    cache.set('h', principal)
    expect(cache.get('h')).toBe(principal)
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(cache.get('h')).toBeUndefined()
  })
})
