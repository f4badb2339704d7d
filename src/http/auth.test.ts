import { describe, expect, it } from 'vitest'
import { credentialOf } from './auth.js'

describe('credentialOf', () => {
  it('reads Bearer keys', () => {
    expect(credentialOf('Bearer sk-proj-abc')).toBe('sk-proj-abc')
    expect(credentialOf('  bearer   sk-proj-abc  ')).toBe('sk-proj-abc')
  })
  it('reads Basic auth with a blank user name and the key as password', () => {
    const basic = 'Basic ' + Buffer.from(':sk-proj-abc').toString('base64')
    expect(credentialOf(basic)).toBe('sk-proj-abc')
  })
  it('finds nothing in empty or malformed headers', () => {
    expect(credentialOf(undefined)).toBeUndefined()
    expect(credentialOf('Bearer')).toBeUndefined()
    expect(credentialOf('Token sk-proj-abc')).toBeUndefined()
    expect(credentialOf('Basic ' + Buffer.from('user:').toString('base64'))).toBeUndefined()
    expect(credentialOf('Bearer a b')).toBeUndefined()
  })
})
