import type { RateLimitsConfig } from '../../config/limits.js'
import { dbLog } from '../../logger.js'
import { InProcessLimiter } from './in-process.js'
import type { RateLimiter } from './limiter.js'
import { RedisLimiter } from './redis.js'

export type { RateLimiter } from './limiter.js'

/**
 * The configured limiter: Redis when `rateLimits.redisUrl` is set (shared by every node), else this
 * process. A Redis that is down at start is reported and not waited for: requests are served
 * (without limits, see LimitsService) until it comes back.
 */
export async function createRateLimiter(config: RateLimitsConfig): Promise<RateLimiter> {
  if (!config.redisUrl) return new InProcessLimiter()
  const limiter = new RedisLimiter({ url: config.redisUrl, prefix: config.redisPrefix })
  try {
    await limiter.connect()
  } catch (error) {
    dbLog.warn({ err: error }, 'cannot reach Redis for rate limits; retrying in the background')
  }
  return limiter
}
