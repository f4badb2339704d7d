import { describe, expect, it } from 'vitest'
import { newId, newSecret } from './ids.js'

describe('newId', () => {
  it('sorts by creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => newId('batch_'))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids[0]).toMatch(/^batch_[0-9A-Za-z]{24}$/)
  })
  it('makes secrets with the prefix and enough entropy', () => {
    const a = newSecret('sk-proj-')
    expect(a.startsWith('sk-proj-')).toBe(true)
    expect(a.length).toBeGreaterThan(50)
    expect(newSecret('sk-proj-')).not.toBe(a)
  })
})
