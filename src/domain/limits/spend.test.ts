import { describe, expect, it } from 'vitest'
import { monthStart } from './spend.js'

describe('monthStart', () => {
  it('is the first second of the calendar month in UTC', () => {
    expect(monthStart(Date.UTC(2026, 11, 8, 2, 6) / 1000)).toBe(Date.UTC(2026, 11, 1) / 1000)
    // the month's first second and last second belong to it; the next second does not
    expect(monthStart(Date.UTC(2026, 1, 1) / 1000)).toBe(Date.UTC(2026, 1, 1) / 1000)
    expect(monthStart(Date.UTC(2026, 2, 1) / 1000 - 1)).toBe(Date.UTC(2026, 1, 1) / 1000)
    expect(monthStart(Date.UTC(2027, 0, 1) / 1000)).toBe(Date.UTC(2027, 0, 1) / 1000)
  })
})
