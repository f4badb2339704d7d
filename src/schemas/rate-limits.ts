import { z } from 'zod'
import { queryInteger } from './query-integer.js'

const limit = z.number().int().min(1)

/** ProjectRateLimitUpdateRequest: every field optional; only those given change. */
export const ProjectRateLimitUpdateRequest = z.strictObject({
  max_requests_per_1_minute: limit.optional(),
  max_tokens_per_1_minute: limit.optional(),
  max_images_per_1_minute: limit.optional(),
  max_audio_megabytes_per_1_minute: limit.optional(),
  max_requests_per_1_day: limit.optional(),
  batch_1_day_max_input_tokens: limit.optional(),
})

export const ProjectRateLimitListQuery = z.strictObject({
  limit: queryInteger(z.number().int().min(1).max(100)).default(100),
  after: z.string().optional(),
  before: z.string().optional(),
})
