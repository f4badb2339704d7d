import type { ColumnType } from 'kysely'

/** A column the database fills with a default when an insert leaves it out. */
type Defaulted<T> = ColumnType<T, T | undefined, T>

/**
 * What a usage record counts besides requests and text tokens (migration 0006): one column per
 * unit of the usage API's results, 0 when the operation has no such unit.
 */
export interface UsageRecordUnitColumns {
  input_audio_tokens: Defaulted<number>
  output_audio_tokens: Defaulted<number>
  images: Defaulted<number>
  /** text-to-speech input characters */
  characters: Defaulted<number>
  /** transcribed audio seconds */
  seconds: Defaulted<number>
  /** vector store bytes (a snapshot recorded by the vector stores feature) */
  usage_bytes: Defaulted<number>
  /** code interpreter sessions */
  sessions: Defaulted<number>
  /** images only: image.generation | image.edit | image.variation */
  source: Defaulted<string | null>
  /** images only: 1024x1024... */
  size: Defaulted<string | null>
}

export type RollupWidth = '1m' | '1h' | '1d'

/**
 * Sums of usage records per bucket (see migration 0006). Absent dimensions are '' (not null) so
 * that they compare equal in the unique key.
 */
export interface UsageRollupsTable {
  operation: string
  bucket_width: RollupWidth
  /** unix seconds, a multiple of the width */
  bucket_start: number
  project_id: string
  api_key_id: string
  model: string
  batch: number
  source: string
  size: string
  requests: number
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  input_audio_tokens: number
  output_audio_tokens: number
  images: number
  characters: number
  seconds: number
  usage_bytes: number
  sessions: number
}

/** A project's own rate limits for one model; a null column takes the configured default. */
export interface ProjectRateLimitsTable {
  project_id: string
  model: string
  max_requests_per_1_minute: number | null
  max_tokens_per_1_minute: number | null
  max_images_per_1_minute: number | null
  max_audio_megabytes_per_1_minute: number | null
  max_requests_per_1_day: number | null
  batch_1_day_max_input_tokens: number | null
  updated_at: number
}

/** A hard spend limit (migration 0026): `scope` is a project id or the organization id. */
export interface SpendLimitsTable {
  scope: string
  kind: 'organization' | 'project'
  /** cents */
  threshold_amount: number
  updated_at: number
}

/** A spend alert; `recipients` is a JSON array, `triggered_month` the `YYYY-MM` it last fired. */
export interface SpendAlertsTable {
  id: string
  scope: string
  kind: 'organization' | 'project'
  threshold_amount: number
  recipients: string
  subject_prefix: string | null
  created_at: number
  triggered_month: string | null
}
