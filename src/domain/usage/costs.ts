import type { ModelPrice, PricingConfig } from '../../config/limits.js'
import type { RollupResult } from '../../storage/repositories/usage-rollups.js'

type Line = { item: string; amount: number }

/**
 * The priced lines of one rollup row, named as OpenAI names line items (`<model>, input`).
 * Cached input tokens are part of input_tokens; they are priced apart when the model has a
 * cached price.
 */
function lines(row: RollupResult, price: ModelPrice): Line[] {
  const model = String(row.model)
  const out: Line[] = []
  // a fine-tuning job's trained tokens, at the model's training price
  if (row.operation === 'fine_tuning') {
    if (row.input_tokens) out.push({ item: `${model}, training`, amount: (row.input_tokens * price.training) / 1e6 })
    return out
  }
  const cached = price.cachedInput === undefined ? 0 : row.cached_tokens
  if (row.input_tokens) out.push({ item: `${model}, input`, amount: ((row.input_tokens - cached) * price.input) / 1e6 })
  if (cached) out.push({ item: `${model}, cached input`, amount: (cached * price.cachedInput!) / 1e6 })
  if (row.output_tokens) out.push({ item: `${model}, output`, amount: (row.output_tokens * price.output) / 1e6 })
  if (row.images) out.push({ item: `${model}, images`, amount: row.images * price.image })
  if (row.characters) out.push({ item: `${model}, characters`, amount: (row.characters * price.characters) / 1e6 })
  if (row.seconds) out.push({ item: `${model}, audio`, amount: (row.seconds / 60) * price.audioMinute })
  if (row.sessions) out.push({ item: `${model}, sessions`, amount: row.sessions * price.session })
  return out
}

const FREE: ModelPrice = { input: 0, output: 0, image: 0, characters: 0, audioMinute: 0, session: 0, training: 0 }

/**
 * A day's vector store bytes (the day's snapshot, see domain/retrieval/maintenance.ts) at the
 * storage price per GB and day. OpenAI's first free GB is not taken off: it is per organization,
 * and a grouping by project could not split it.
 */
function storageLines(row: RollupResult, pricing: PricingConfig): Line[] {
  if (!row.usage_bytes) return []
  return [{ item: 'file search storage', amount: (row.usage_bytes / 1e9) * pricing.vectorStoreGbDay }]
}

/**
 * `organization.costs.result`s of one daily bucket from its rollup rows (grouped by model and
 * operation, and by project or key when asked). A model missing from the price table costs 0.
 */
export function costResults(rows: RollupResult[], pricing: PricingConfig, groupBy: ReadonlySet<string>): Record<string, unknown>[] {
  const totals = new Map<string, { project: string | null; key: string | null; item: string | null; amount: number }>()
  for (const row of rows) {
    const project = groupBy.has('project_id') ? String(row.project_id) : null
    const key = groupBy.has('api_key_id') ? String(row.api_key_id) || null : null
    const priced =
      row.operation === 'vector_stores' ? storageLines(row, pricing) : lines(row, pricing.models[String(row.model)] ?? FREE)
    // usage without a price still shows, at 0, so the bucket is not mistaken for an idle day
    const items = groupBy.has('line_item') ? priced : [{ item: null, amount: priced.reduce((sum, l) => sum + l.amount, 0) }]
    for (const { item, amount } of items) {
      const id = JSON.stringify([project, key, item])
      const total = totals.get(id)
      if (total) total.amount += amount
      else totals.set(id, { project, key, item, amount })
    }
  }
  return [...totals.values()].map((t) => ({
    object: 'organization.costs.result',
    amount: { value: round(t.amount), currency: pricing.currency },
    line_item: t.item,
    project_id: t.project,
    ...(groupBy.has('api_key_id') ? { api_key_id: t.key } : {}),
  }))
}

/** Sums of float prices pick up noise in the last digits (0.30000000000000004). */
function round(value: number): number {
  return Math.round(value * 1e10) / 1e10
}
