import { classifyText, FLAG_THRESHOLD } from '../../src/providers/lexicon-moderation/classify.js'
import type { ModerationCategory } from '../../src/providers/moderation-backend.js'
import type { Labelled } from './labelled-dev.js'

/** The category groups measured: each parent and its subcategories. */
export const GROUPS: Record<string, ModerationCategory[]> = {
  harassment: ['harassment', 'harassment/threatening'],
  hate: ['hate', 'hate/threatening'],
  illicit: ['illicit', 'illicit/violent'],
  'self-harm': ['self-harm', 'self-harm/intent', 'self-harm/instructions'],
  sexual: ['sexual', 'sexual/minors'],
  violence: ['violence', 'violence/graphic'],
}

export type Counts = { tp: number; fp: number; fn: number; tn: number }
export type Report = {
  groups: Record<string, Counts & { precision: number; recall: number }>
  /** Whether a text is flagged at all, against whether it has any label. */
  flagged: Counts & { precision: number; recall: number }
  errors: string[]
}

const rate = (a: number, b: number) => (b === 0 ? 1 : a / b)
const withRates = (c: Counts) => ({ ...c, precision: rate(c.tp, c.tp + c.fp), recall: rate(c.tp, c.tp + c.fn) })

export async function measure(set: Labelled[]): Promise<Report> {
  const counts: Record<string, Counts> = Object.fromEntries(Object.keys(GROUPS).map((g) => [g, { tp: 0, fp: 0, fn: 0, tn: 0 }]))
  const flagged: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 }
  const errors: string[] = []
  for (const [text, labels] of set) {
    const expected = new Set(labels.split(',').filter(Boolean))
    const { scores, rules } = await classifyText(text)
    const got = new Set(Object.keys(GROUPS).filter((g) => GROUPS[g].some((c) => scores[c] >= FLAG_THRESHOLD)))
    for (const group of Object.keys(GROUPS)) {
      const c = counts[group]
      if (expected.has(group) && got.has(group)) c.tp++
      else if (got.has(group)) c.fp++
      else if (expected.has(group)) c.fn++
      else c.tn++
    }
    const any = got.size > 0
    if (expected.size && any) flagged.tp++
    else if (any) flagged.fp++
    else if (expected.size) flagged.fn++
    else flagged.tn++
    const same = expected.size === got.size && [...expected].every((g) => got.has(g))
    if (!same) errors.push(`${JSON.stringify(text)} expected [${[...expected]}] got [${[...got]}] rules [${rules}]`)
  }
  return {
    groups: Object.fromEntries(Object.entries(counts).map(([g, c]) => [g, withRates(c)])),
    flagged: withRates(flagged),
    errors,
  }
}

export function table(report: Report): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`
  const rows = Object.entries(report.groups).map(([g, c]) => `| ${g} | ${c.tp + c.fn} | ${pct(c.precision)} | ${pct(c.recall)} |`)
  const f = report.flagged
  rows.push(`| any (flagged) | ${f.tp + f.fn} | ${pct(f.precision)} | ${pct(f.recall)} |`)
  return ['| group | positives | precision | recall |', '|---|---|---|---|', ...rows].join('\n')
}
