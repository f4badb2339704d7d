import { describe, expect, it } from 'vitest'
import { forwardedClient, forwardedProto } from './forwarded.js'

describe('forwardedClient', () => {
  it('is the peer when no proxy is trusted, whatever the header says', () => {
    expect(forwardedClient('10.0.0.5', '203.0.113.9', 0)).toBe('10.0.0.5')
  })

  it('is the address the one trusted proxy appended, not what the client wrote before it', () => {
    expect(forwardedClient('127.0.0.1', '203.0.113.9', 1)).toBe('203.0.113.9')
    expect(forwardedClient('127.0.0.1', '198.51.100.1, 203.0.113.9', 1)).toBe('203.0.113.9')
  })

  it('counts trusted proxies from the right', () => {
    expect(forwardedClient('10.0.0.2', '198.51.100.1, 203.0.113.9, 10.0.0.1', 2)).toBe('203.0.113.9')
  })

  it('takes the leftmost entry when there are fewer entries than trusted proxies', () => {
    expect(forwardedClient('10.0.0.2', '203.0.113.9', 3)).toBe('203.0.113.9')
  })

  it('is the peer when the header is missing or empty', () => {
    expect(forwardedClient('127.0.0.1', undefined, 1)).toBe('127.0.0.1')
    expect(forwardedClient('127.0.0.1', ' , ', 1)).toBe('127.0.0.1')
    expect(forwardedClient(undefined, '203.0.113.9', 1)).toBeUndefined()
  })
})

describe('forwardedProto', () => {
  it('is ignored without a trusted proxy', () => {
    expect(forwardedProto('https', 0)).toBeUndefined()
  })

  it("is the nearest proxy's value, http or https only", () => {
    expect(forwardedProto('https', 1)).toBe('https')
    expect(forwardedProto('http, HTTPS', 1)).toBe('https')
    expect(forwardedProto('gopher', 1)).toBeUndefined()
    expect(forwardedProto(undefined, 1)).toBeUndefined()
  })
})
