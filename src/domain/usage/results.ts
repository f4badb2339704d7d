import type { RollupResult, RollupSum } from '../../storage/repositories/usage-rollups.js'

export type UsageKind =
  | 'completions'
  | 'embeddings'
  | 'moderations'
  | 'images'
  | 'audio_speeches'
  | 'audio_transcriptions'
  | 'vector_stores'
  | 'code_interpreter_sessions'

export type GroupField = 'project_id' | 'user_id' | 'api_key_id' | 'model' | 'batch' | 'source' | 'size'

/** One summed row with its group values resolved (user_id comes from the key's owner). */
export type Grouped = RollupResult & { user_id?: string | null }

/** Which group fields each result shows (as null when not grouped by). */
const SHOWN: Record<UsageKind, readonly GroupField[]> = {
  completions: ['project_id', 'user_id', 'api_key_id', 'model', 'batch'],
  embeddings: ['project_id', 'user_id', 'api_key_id', 'model'],
  moderations: ['project_id', 'user_id', 'api_key_id', 'model'],
  images: ['source', 'size', 'project_id', 'user_id', 'api_key_id', 'model'],
  audio_speeches: ['project_id', 'user_id', 'api_key_id', 'model'],
  audio_transcriptions: ['project_id', 'user_id', 'api_key_id', 'model'],
  vector_stores: ['project_id'],
  code_interpreter_sessions: ['project_id'],
}

/** The summed columns each kind's results show (measures): a page sums only these. */
export const SUMMED: Record<UsageKind, readonly RollupSum[]> = {
  completions: [
    'input_tokens',
    'output_tokens',
    'cached_tokens',
    'input_audio_tokens',
    'output_audio_tokens',
    'requests',
  ],
  embeddings: ['input_tokens', 'requests'],
  moderations: ['input_tokens', 'requests'],
  images: ['images', 'requests'],
  audio_speeches: ['characters', 'requests'],
  audio_transcriptions: ['seconds', 'requests'],
  vector_stores: ['usage_bytes'],
  code_interpreter_sessions: ['sessions'],
}

/** The measures of each result object, from the summed columns (SUMMED). */
function measures(kind: UsageKind, r: Grouped): Record<string, number> {
  switch (kind) {
    case 'completions':
      return {
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
        input_cached_tokens: r.cached_tokens,
        input_audio_tokens: r.input_audio_tokens,
        output_audio_tokens: r.output_audio_tokens,
        num_model_requests: r.requests,
      }
    case 'embeddings':
    case 'moderations':
      return { input_tokens: r.input_tokens, num_model_requests: r.requests }
    case 'images':
      return { images: r.images, num_model_requests: r.requests }
    case 'audio_speeches':
      return { characters: r.characters, num_model_requests: r.requests }
    case 'audio_transcriptions':
      return { seconds: r.seconds, num_model_requests: r.requests }
    case 'vector_stores':
      return { usage_bytes: r.usage_bytes }
    case 'code_interpreter_sessions':
      return { num_sessions: r.sessions }
  }
}

/** `organization.usage.<kind>.result`, with the fields of the spec's Usage*Result in its order. */
export function toResult(kind: UsageKind, row: Grouped, groupBy: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { object: `organization.usage.${kind}.result`, ...measures(kind, row) }
  for (const field of SHOWN[kind]) out[field] = groupBy.has(field) ? groupValue(field, row) : null
  return out
}

function groupValue(field: GroupField, row: Grouped): unknown {
  const value = row[field]
  if (field === 'batch') return value === 1 || value === '1'
  // '' marks an absent dimension in the rollups (no key, no size...)
  return value === '' || value === undefined ? null : value
}
