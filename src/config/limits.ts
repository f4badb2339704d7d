import { z } from 'zod'

const positive = z.number().int().positive()

/**
 * One model's rate limits (docs/configuration.md). Only requests and tokens per minute always
 * apply; the others apply once set.
 */
export const ModelLimits = z.strictObject({
  requestsPerMinute: positive.optional(),
  tokensPerMinute: positive.optional(),
  requestsPerDay: positive.optional(),
  imagesPerMinute: positive.optional(),
  audioMegabytesPerMinute: positive.optional(),
  batchInputTokensPerDay: positive.optional(),
})

/**
 * Rate limits per project and model: `defaults` for every model, `models` per model id, and
 * per-project overrides set through the Administration API (stored in the database). The
 * defaults are high enough that a server upgraded from a version without limits keeps serving as
 * before; lower them to protect a backend.
 */
export const RateLimitsConfig = z.strictObject({
  enabled: z.boolean().default(true),
  defaults: ModelLimits.extend({
    requestsPerMinute: positive.default(1_000_000),
    tokensPerMinute: positive.default(1_000_000_000),
  }).prefault({}),
  models: z.record(z.string(), ModelLimits).default({}),
  /**
   * Empty: counters live in this process (one node). redis://...: counters live in Redis and every
   * node pointed at it shares one limit. Env: PLINTH_REDIS_URL.
   */
  redisUrl: z.string().optional(),
  /** Prefix of the Redis keys. */
  redisPrefix: z.string().default('plinth:rl:'),
  /**
   * The longest a node serves a project's cached limits (0: read on every request). Unset:
   * `changes.maxStaleMs`. Changes reach every node sooner through the change feed; this bounds them
   * when a notification is lost.
   */
  projectCacheMs: z.number().int().min(0).optional(),
  /**
   * While Redis does not answer: `local` counts in each node's memory (each node then allows the
   * whole limit; a warning is logged and plinth_rate_limiter_fallback_total counts the requests),
   * `refuse` answers limited requests 503 until Redis is back. Env: PLINTH_RATE_LIMITS_ON_REDIS_DOWN.
   */
  onRedisDown: z.enum(['local', 'refuse']).default('local'),
})

/** Prices of one model, in `pricing.currency`. Unset prices cost nothing. */
export const ModelPrice = z.strictObject({
  /** per 1M input tokens (cached tokens included, unless cachedInput is set) */
  input: z.number().min(0).default(0),
  /** per 1M cached input tokens; default: the input price */
  cachedInput: z.number().min(0).optional(),
  /** per 1M output tokens */
  output: z.number().min(0).default(0),
  /** per image */
  image: z.number().min(0).default(0),
  /** per 1M characters of text-to-speech input */
  characters: z.number().min(0).default(0),
  /** per minute of transcribed audio */
  audioMinute: z.number().min(0).default(0),
  /** per code interpreter session (the usage's model is `code-interpreter`; OpenAI: 0.03) */
  session: z.number().min(0).default(0),
  /** per 1M trained tokens of a fine-tuning job of this base model */
  training: z.number().min(0).default(0),
})

/** The price table of GET /v1/organization/costs (docs/usage.md). */
export const PricingConfig = z.strictObject({
  /** lower-case ISO 4217, as the costs API reports it */
  currency: z.string().default('usd'),
  models: z.record(z.string(), ModelPrice).default({}),
  /** Vector store storage, per GB (10^9 bytes) per day: OpenAI's list price. */
  vectorStoreGbDay: z.number().min(0).default(0.1),
})

export type RateLimitsConfig = z.output<typeof RateLimitsConfig>
export type ModelLimits = z.output<typeof ModelLimits>
export type PricingConfig = z.output<typeof PricingConfig>
export type ModelPrice = z.output<typeof ModelPrice>
