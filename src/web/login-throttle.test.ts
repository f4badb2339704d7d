import { describe, expect, it } from 'vitest'
import { LoginThrottle } from './login-throttle.js'

describe('LoginThrottle', () => {
  it('allows up to the bound of failures in a minute, then says how long to wait', () => {
    const throttle = new LoginThrottle(3, 60_000)
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a', 1000)).toBe(0)
      throttle.failed('a', 1000 + i)
    }
    expect(throttle.retryAfter('a', 2000)).toBe(59)
    expect(throttle.retryAfter('b', 2000)).toBe(0)
  })

  it('forgets failures older than the window, and all of them on success', () => {
    const throttle = new LoginThrottle(2, 60_000)
    throttle.failed('a', 0)
    throttle.failed('a', 10)
    expect(throttle.retryAfter('a', 59_000)).toBeGreaterThan(0)
    expect(throttle.retryAfter('a', 60_011)).toBe(0)
    throttle.failed('c', 0)
    throttle.failed('c', 1)
    throttle.succeeded('c')
    expect(throttle.retryAfter('c', 2)).toBe(0)
  })
})
