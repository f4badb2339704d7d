import { randomBytes } from 'node:crypto'
import { describe } from 'vitest'

/** Redis tests run only when this is set; `.ci/run` starts a redis-server and sets it. */
export function redisTestUrl(): string | undefined {
  return process.env.TEST_REDIS_URL || undefined
}

/** Why Redis suites did not run, in their titles and on stderr. */
export const REDIS_SKIPPED = 'skipped: TEST_REDIS_URL not set; CI sets it'

/**
 * A suite that needs Redis: runs when TEST_REDIS_URL is set, otherwise shows up as a skipped suite
 * whose title says why, and says it on stderr too (the default reporter shows only counts).
 */
export function describeRedis(title: string, fn: () => void) {
  if (redisTestUrl()) return describe(title, fn)
  console.warn(`${title} (${REDIS_SKIPPED})`)
  describe.skip(`${title} (${REDIS_SKIPPED})`, fn)
}

/** A key prefix of its own for one suite: suites share one Redis and must not share counters. */
export function redisPrefix(label: string): string {
  return `plinth-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`
}
