import { sql } from 'kysely'
import type { RateLimiter } from '../storage/limits/limiter.js'
import type { Storage } from '../storage/storage.js'

export type ReadinessCheck = { name: string; ok: boolean; detail?: string }
export type Readiness = { ready: boolean; checks: ReadinessCheck[] }

const CHECK_TIMEOUT_MS = 2000

/**
 * Whether this node can serve (GET /ready): the database answers, Redis answers when the rate
 * limits use it, and the job runner is claiming jobs. `/health` only says the process is alive;
 * a load balancer sends traffic by this one.
 */
export async function checkReadiness(parts: { storage: Storage; limiter: RateLimiter; jobsRunning: () => boolean }): Promise<Readiness> {
  const checks = await Promise.all([
    probe('database', () => sql`select 1`.execute(parts.storage.db)),
    ...(parts.limiter.ping ? [probe('redis', () => parts.limiter.ping!())] : []),
    Promise.resolve<ReadinessCheck>(
      parts.jobsRunning() ? { name: 'jobs', ok: true } : { name: 'jobs', ok: false, detail: 'the job runner is not running' },
    ),
  ])
  return { ready: checks.every((c) => c.ok), checks }
}

async function probe(name: string, run: () => Promise<unknown>): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
  })
  try {
    await Promise.race([run(), timeout])
    return { name, ok: true }
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message }
  } finally {
    clearTimeout(timer)
  }
}
