import { describe, expect, it } from 'vitest'
import { axisTicks, BarChart, compact } from '../../src/web/chart.js'
import { cell } from '../../src/web/pages/usage-csv.js'
import { readFilters } from '../../src/web/usage-query.js'

function axisLabels(values: number[]): string[] {
  const svg = String(BarChart({ title: 't', labels: values.map((_, i) => `d${i}`), series: [{ label: 'requests', color: '#000', values }] }))
  return [...svg.matchAll(/class="axis" text-anchor="end">([^<]*)</g)].map((m) => m[1])
}

describe('chart axes', () => {
  it('labels counts in whole numbers (29 requests never gave a "14.50" tick again)', () => {
    for (const max of [1, 2, 3, 7, 29, 101, 999, 12_345]) {
      const labels = axisLabels([max, Math.floor(max / 3)])
      for (const label of labels) expect(label, `max ${max}`).toMatch(/^\d+(\.\d+)?[kMB]?$/)
      const ticks = axisTicks(max, true)
      expect(ticks.every(Number.isInteger), `max ${max}: ${ticks}`).toBe(true)
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max)
    }
    expect(axisLabels([29, 3])).toEqual(['0', '10', '20', '30'])
    expect(axisLabels([1])).toEqual(['0', '1'])
  })

  it('keeps round fractional steps for money', () => {
    expect(axisTicks(0.0123, false)).toEqual([0, 0.005, 0.01, 0.015])
    expect(compact(0.005)).toBe('0.005')
    expect(compact(1500)).toBe('1.5k')
    expect(compact(2_000_000)).toBe('2M')
  })
})

describe('usage filters', () => {
  const now = Date.parse('2025-03-15T12:00:00Z') / 1000
  it('defaults to the last 14 days by day, the last day up to now', () => {
    const f = readFilters({}, now)
    expect(f).toMatchObject({ kind: 'completions', width: '1d', from: '2025-03-02', to: '2025-03-15' })
    expect(f.end).toBe(now + 1)
  })
  it('refuses a range that would draw too many buckets, or that ends before it starts', () => {
    expect(() => readFilters({ from: '2025-03-01', to: '2025-03-15', width: '1m' }, now)).toThrow(/too many to chart/)
    expect(() => readFilters({ from: '2025-03-10', to: '2025-03-01' }, now)).toThrow(/must end after it starts/)
  })
})

describe('CSV cells', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(cell('a,b')).toBe('"a,b"')
    expect(cell('say "hi"')).toBe('"say ""hi"""')
    expect(cell('=1+1')).toBe("'=1+1")
    expect(cell(-3)).toBe('-3')
    expect(cell(null)).toBe('')
  })
})
