import type { z } from 'zod'
import type { jobLog } from '../logger.js'

/** What a handler is told about the job it runs. */
export type JobInfo = {
  id: string
  kind: string
  /** 1 on the first run, counting runs cut short by a crash or a lost lease */
  attempt: number
  maxAttempts: number
}

export type JobContext<P> = {
  job: JobInfo
  /** the payload, parsed by the kind's schema */
  payload: P
  /** what the last setProgress saved, on an earlier attempt too (a checkpoint to resume from) */
  progress: unknown
  /**
   * Aborted when the job should stop: a cancel was requested (reason: JobAbort 'cancel'), this
   * runner lost the lease ('lease-lost': another runner may already be running the job), or the
   * process is shutting down and the job did not finish in time ('shutdown').
   */
  signal: AbortSignal
  /** Saves progress (any JSON) on the job row, readable with `jobs.get(id)`. */
  setProgress(progress: unknown): Promise<void>
  log: typeof jobLog
}

export type Backoff = {
  /** delay before the first retry; it doubles per attempt, with jitter */
  baseMs: number
  /** the longest delay */
  maxMs: number
}

export type JobDefinition<S extends z.ZodType> = {
  /** validates the payload before the handler runs; a payload that fails is failed, not retried */
  payload: S
  /** how long a claim holds without a heartbeat (default 30 s) */
  leaseMs?: number
  /** how often the lease is extended and a cancel request noticed (default leaseMs / 3) */
  heartbeatMs?: number
  /** runs in all, first included (default 3); `enqueue(..., { maxAttempts })` overrides it */
  maxAttempts?: number
  backoff?: Backoff
  /**
   * Does the work. Runs at least once per job, and may run again after a crash or a lost lease,
   * so it must be idempotent (docs/jobs.md). Returning marks the job succeeded; throwing retries
   * it with backoff, or fails it (PermanentJobError, or no attempts left).
   */
  handler(ctx: JobContext<z.output<S>>): Promise<void>
}

/** A registered kind, with the defaults filled in. */
export type JobKind = {
  kind: string
  payload: z.ZodType
  leaseMs: number
  heartbeatMs: number
  maxAttempts: number
  backoff: Backoff
  handler(ctx: JobContext<unknown>): Promise<void>
}

export const JOB_DEFAULTS = {
  leaseMs: 30_000,
  maxAttempts: 3,
  backoff: { baseMs: 1_000, maxMs: 5 * 60_000 },
} as const

/** Thrown by a handler for a failure that retrying cannot fix: the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}

export type JobAbortReason = 'cancel' | 'lease-lost' | 'shutdown'

const ABORT_MESSAGES: Record<JobAbortReason, string> = {
  cancel: 'the job was cancelled',
  'lease-lost': "this runner lost the job's lease",
  shutdown: 'the runner is shutting down',
}

/** The reason a handler's signal carries. */
export class JobAbort extends Error {
  override name = 'JobAbort'
  constructor(readonly reason: JobAbortReason) {
    super(ABORT_MESSAGES[reason])
  }
}

/** Job kinds by name. Features register theirs when the context is built. */
export class JobCatalog {
  readonly #kinds = new Map<string, JobKind>()

  /** `leaseMs`: every kind's lease instead of its own; heartbeats come at least a third as often. */
  constructor(private readonly options: { leaseMs?: number } = {}) {}

  register<S extends z.ZodType>(kind: string, definition: JobDefinition<S>): this {
    if (this.#kinds.has(kind)) throw new Error(`job kind ${kind} is already registered`)
    const override = this.options.leaseMs
    const leaseMs = override ?? definition.leaseMs ?? JOB_DEFAULTS.leaseMs
    const own = definition.heartbeatMs ?? Math.floor(leaseMs / 3)
    const heartbeatMs = override ? Math.max(1, Math.min(own, Math.floor(leaseMs / 3))) : own
    const maxAttempts = definition.maxAttempts ?? JOB_DEFAULTS.maxAttempts
    // a heartbeat must land well inside the lease, or a healthy job would be reclaimed
    if (!(leaseMs > 0 && heartbeatMs > 0 && heartbeatMs <= leaseMs / 2))
      throw new Error(`job kind ${kind}: need 0 < heartbeatMs <= leaseMs / 2`)
    if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1))
      throw new Error(`job kind ${kind}: maxAttempts must be a positive integer`)
    this.#kinds.set(kind, {
      kind,
      payload: definition.payload,
      leaseMs,
      heartbeatMs,
      maxAttempts,
      backoff: definition.backoff ?? JOB_DEFAULTS.backoff,
      handler: definition.handler as JobKind['handler'],
    })
    return this
  }

  get(kind: string): JobKind | undefined {
    return this.#kinds.get(kind)
  }

  list(): JobKind[] {
    return [...this.#kinds.values()]
  }
}

/**
 * Delay before retrying after failed attempt `attempt` (1-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so jobs that failed together do not retry together.
 */
export function retryDelayMs(attempt: number, backoff: Backoff, random = Math.random): number {
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + (random() * exp) / 2)
}
