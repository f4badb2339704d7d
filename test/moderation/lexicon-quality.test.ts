import { describe, expect, it } from 'vitest'
import { DEV_SET } from './labelled-dev.js'
import { HELD_OUT_SET } from './labelled-held-out.js'
import { measure, table } from './measure.js'

/**
 * lexicon-moderation's precision and recall on the labelled sets (docs/moderation.md). The floors
 * are the numbers measured when the rules were written: a change to the rules that loses any of
 * them fails here. The held-out set is the honest measure; the dev set was tuned on.
 */
const HELD_OUT_FLOORS: Record<string, [precision: number, recall: number]> = {
  harassment: [1, 15 / 17],
  hate: [1, 6 / 9],
  illicit: [1, 9 / 10],
  'self-harm': [0.8, 4 / 9],
  sexual: [1, 5 / 8],
  violence: [1, 12 / 13],
}

describe('lexicon-moderation on labelled sentences', () => {
  it('held-out set: precision and recall at or above what was measured', async () => {
    const report = await measure(HELD_OUT_SET)
    console.log(`held-out (${HELD_OUT_SET.length} sentences)\n${table(report)}`)
    for (const [group, [precision, recall]] of Object.entries(HELD_OUT_FLOORS)) {
      expect(report.groups[group].precision, `${group} precision`).toBeGreaterThanOrEqual(precision - 1e-9)
      expect(report.groups[group].recall, `${group} recall`).toBeGreaterThanOrEqual(recall - 1e-9)
    }
    // whether a text is flagged at all: 42 of 43 flags right, 43 of 56 harmful texts found
    expect(report.flagged.precision).toBeGreaterThanOrEqual(42 / 43 - 1e-9)
    expect(report.flagged.recall).toBeGreaterThanOrEqual(43 / 56 - 1e-9)
  })

  it('dev set: every sentence right (the rules were tuned on it)', async () => {
    const report = await measure(DEV_SET)
    console.log(`dev (${DEV_SET.length} sentences)\n${table(report)}`)
    expect(report.errors).toEqual([])
  })

  it('the sets are of a size that measures something, with benign tricky sentences', () => {
    expect(DEV_SET.length + HELD_OUT_SET.length).toBeGreaterThanOrEqual(220)
    const benign = [...DEV_SET, ...HELD_OUT_SET].filter(([, labels]) => labels === '')
    expect(benign.length).toBeGreaterThanOrEqual(80)
  })
})
