import { describe, expect, it } from 'vitest'
import { goDuration } from './duration.js'

describe('goDuration: Go time.Duration text, as in x-ratelimit-reset-*', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.4, '0s'],
    [1, '1ms'],
    [20, '20ms'],
    [644, '644ms'],
    [999.6, '1s'],
    [1000, '1s'],
    [1200, '1.2s'],
    [8640, '8.64s'],
    [26_604, '26.604s'],
    [60_000, '1m0s'],
    [150_500, '2m30.5s'],
    [360_000, '6m0s'],
    [3_600_000, '1h0m0s'],
    [86_400_000, '24h0m0s'],
    [90_061_001, '25h1m1.001s'],
  ])('%d ms is %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text)
  })
})
