import type { ModelLimits, RateLimitsConfig } from '../../config/limits.js'
import type { RateLimitValues } from '../../storage/repositories/rate-limits.js'

/** A model's limits as they apply to one project, under the wire's names (ProjectRateLimit). */
export type Limits = {
  max_requests_per_1_minute: number
  max_tokens_per_1_minute: number
  max_images_per_1_minute?: number
  max_audio_megabytes_per_1_minute?: number
  max_requests_per_1_day?: number
  batch_1_day_max_input_tokens?: number
}

const CONFIG_NAMES: Record<keyof Limits, keyof ModelLimits> = {
  max_requests_per_1_minute: 'requestsPerMinute',
  max_tokens_per_1_minute: 'tokensPerMinute',
  max_images_per_1_minute: 'imagesPerMinute',
  max_audio_megabytes_per_1_minute: 'audioMegabytesPerMinute',
  max_requests_per_1_day: 'requestsPerDay',
  batch_1_day_max_input_tokens: 'batchInputTokensPerDay',
}

export const LIMIT_FIELDS = Object.keys(CONFIG_NAMES) as (keyof Limits)[]

/** Later sources win: config defaults, the model's config, the project's own (database). */
export function effectiveLimits(config: RateLimitsConfig, model: string, own?: Partial<RateLimitValues>): Limits {
  const forModel = config.models[model]
  const out: Partial<Limits> = {}
  for (const field of LIMIT_FIELDS) {
    const name = CONFIG_NAMES[field]
    const value = own?.[field] ?? forModel?.[name] ?? config.defaults[name]
    if (value != null) out[field] = value
  }
  return out as Limits
}

export type ProjectRateLimitObject = { object: 'project.rate_limit'; id: string; model: string } & Limits

const PREFIX = 'rl-'

export function rateLimitId(model: string): string {
  return PREFIX + model
}

/** `rl-<model>` → the model, or undefined for an id of another form. */
export function modelOfRateLimitId(id: string): string | undefined {
  return id.startsWith(PREFIX) && id.length > PREFIX.length ? id.slice(PREFIX.length) : undefined
}

export function toRateLimitObject(model: string, limits: Limits): ProjectRateLimitObject {
  return { object: 'project.rate_limit', id: rateLimitId(model), model, ...limits }
}
