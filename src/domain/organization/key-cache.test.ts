import { describe, expect, it } from 'vitest'
import type { Principal } from '../../principal.js'
import { KeyCache } from './key-cache.js'

const principal: Principal = { orgId: 'org_1', projectId: 'proj_1', keyId: 'key_1', kind: 'project', permissions: { mode: 'all' } }

describe('KeyCache', () => {
  it('never serves an entry once older than its bound', () => {
    const cache = new KeyCache(1000)
    cache.set('h', principal, cache.version, 0)
    expect(cache.get('h', 999)).toBe(principal)
    expect(cache.get('h', 1000)).toBeUndefined()
  })

  it('drops what a lookup started before a clear found (a revocation that raced it)', () => {
    const cache = new KeyCache(1000)
    const version = cache.version
    cache.clear()
    cache.set('h', principal, version, 0)
    expect(cache.get('h', 1)).toBeUndefined()
    cache.set('h', principal, cache.version, 0)
    expect(cache.get('h', 1)).toBe(principal)
  })

  it('a bound of 0 caches nothing', () => {
    const cache = new KeyCache(0)
    cache.set('h', principal, cache.version, 0)
    expect(cache.get('h', 0)).toBeUndefined()
  })
})
