import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { RollupRow } from '../../storage/repositories/usage-rollups.js'
import type { RollupWidth } from '../../storage/tables-usage.js'

export const WIDTH_SECONDS: Record<RollupWidth, number> = { '1m': 60, '1h': 3600, '1d': 86400 }
const WIDTHS = Object.entries(WIDTH_SECONDS) as [RollupWidth, number][]

/**
 * Usage records → the rollup rows they add to, one per bucket width, summed per key: a flush of
 * a thousand requests of one model and key in one minute is three rows.
 */
export function rollupsOf(records: readonly UsageRecordInsert[]): RollupRow[] {
  const rows = new Map<string, RollupRow>()
  for (const r of records) {
    const source = r.source ?? ''
    const size = r.size ?? ''
    const apiKeyId = r.api_key_id ?? ''
    for (const [width, seconds] of WIDTHS) {
      const start = r.created_at - (r.created_at % seconds)
      const key = `${r.operation}\0${width}\0${start}\0${r.project_id}\0${apiKeyId}\0${r.model}\0${r.batch}\0${source}\0${size}`
      let row = rows.get(key)
      if (!row) {
        row = {
          operation: r.operation,
          bucket_width: width,
          bucket_start: start,
          project_id: r.project_id,
          api_key_id: apiKeyId,
          model: r.model,
          batch: r.batch,
          source,
          size,
          requests: 0,
          input_tokens: 0,
          output_tokens: 0,
          cached_tokens: 0,
          input_audio_tokens: 0,
          output_audio_tokens: 0,
          images: 0,
          characters: 0,
          seconds: 0,
          usage_bytes: 0,
          sessions: 0,
        }
        rows.set(key, row)
      }
      row.requests += r.requests
      row.input_tokens += r.input_tokens
      row.output_tokens += r.output_tokens
      row.cached_tokens += r.cached_tokens
      row.input_audio_tokens += r.input_audio_tokens ?? 0
      row.output_audio_tokens += r.output_audio_tokens ?? 0
      row.images += r.images ?? 0
      row.characters += r.characters ?? 0
      row.seconds += r.seconds ?? 0
      row.usage_bytes += r.usage_bytes ?? 0
      row.sessions += r.sessions ?? 0
    }
  }
  return [...rows.values()]
}
