import { AsyncResource } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { StoreUnavailableError } from '../errors.js'
import { jobLog } from '../logger.js'
import { createRepos } from '../storage/repositories/index.js'
import type { JobRow } from '../storage/repositories/jobs.js'
import type { Storage } from '../storage/storage.js'
import {
  JobAbort,
  PermanentJobError,
  retryDelayMs,
  type JobAbortReason,
  type JobCatalog,
  type JobKind,
} from './catalog.js'

export type RunnerOptions = {
  /** names this runner in lease_owner; unique per runner (default host:pid:random) */
  owner?: string
  /** jobs run at once (default 4) */
  concurrency?: number
  /** how often to look for due jobs when nothing woke the runner (default 1000 ms) */
  pollIntervalMs?: number
  /** how often to put back jobs whose runner stopped heartbeating (default 5000 ms) */
  reclaimIntervalMs?: number
  /** how long destroy() waits for jobs in flight before abandoning them (default 10 s) */
  shutdownTimeoutMs?: number
  /** only these kinds (default: every kind in the catalog, read at each claim) */
  kinds?: string[]
}

/** A job this runner holds. */
type Active = {
  row: JobRow
  kind: JobKind
  controller: AbortController
  heartbeat?: NodeJS.Timeout
  /** our lease's end as last written; past it, another runner may have the job */
  leaseExpiresAt: number
  /** the handler returned or threw */
  settled: boolean
  /** destroy() gave up waiting: write nothing more, the lease will expire */
  abandoned: boolean
  done: Promise<void>
}

/**
 * Claims due jobs and runs their handlers (docs/jobs.md): polls on a timer re-armed with
 * setTimeout, takes up to `concurrency − running` jobs per poll, heartbeats each job's lease,
 * aborts a handler whose job is cancelled or whose lease is lost, retries failures with backoff.
 * Every node runs one; claims never overlap (see `claimRows` in storage/dialect.ts).
 */
export class JobRunner {
  readonly owner: string
  private readonly concurrency: number
  private readonly pollIntervalMs: number
  private readonly reclaimIntervalMs: number
  private readonly shutdownTimeoutMs: number
  private readonly active = new Map<string, Active>()
  private timer?: NodeJS.Timeout
  /**
   * Polls in the runner's own async context, never in that of the request whose wake() armed the
   * timer: its AsyncLocalStorage stores (the request's record, its trace span) would otherwise
   * follow every poll and job after it, since each poll arms the next.
   */
  private readonly pollHere = AsyncResource.bind(() => this.poll())
  private polling?: Promise<void>
  private pollAgain = false
  private started = false
  private stopping?: Promise<void>
  private lastReclaim = 0
  private readonly log: typeof jobLog

  constructor(
    private readonly storage: Storage,
    readonly catalog: JobCatalog,
    private readonly options: RunnerOptions = {},
  ) {
    this.owner =
      options.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
    this.concurrency = options.concurrency ?? 4
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.reclaimIntervalMs = options.reclaimIntervalMs ?? 5_000
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000
    this.log = jobLog.child({ runner: this.owner })
  }

  /** Jobs running now. */
  get inFlight(): number {
    return this.active.size
  }

  /** Claiming jobs: started and not being stopped (the readiness check reads it). */
  get running(): boolean {
    return this.started && !this.stopping
  }

  start() {
    if (this.started || this.stopping) return
    this.started = true
    this.arm(0)
  }

  /**
   * Polls now instead of at the next interval: for code in this process that just enqueued (call
   * it after the transaction commits). Other nodes find the job at their next poll.
   */
  wake() {
    if (!this.started || this.stopping) return
    if (this.polling) this.pollAgain = true
    else this.arm(0)
  }

  /**
   * Stops claiming and waits for the jobs in flight. After `timeoutMs` it aborts their signals
   * (reason 'shutdown') and returns without them: they write nothing more, and their leases
   * expire so another runner takes them over.
   */
  destroy(timeoutMs = this.shutdownTimeoutMs): Promise<void> {
    this.stopping ??= this.drain(timeoutMs)
    return this.stopping
  }

  private async drain(timeoutMs: number) {
    clearTimeout(this.timer)
    // a claim in flight launches its jobs first, so they are waited for too
    await this.polling
    const inFlight = [...this.active.values()]
    if (inFlight.length === 0) return
    this.log.info({ jobs: inFlight.length }, 'waiting for jobs in flight')
    if (await settlesWithin(Promise.allSettled(inFlight.map((a) => a.done)), timeoutMs)) return
    for (const active of this.active.values()) {
      active.abandoned = true
      clearTimeout(active.heartbeat)
      active.controller.abort(new JobAbort('shutdown'))
    }
    this.log.warn(
      { jobs: [...this.active.keys()] },
      'jobs still running at shutdown; left to lease expiry',
    )
  }

  private arm(ms: number) {
    clearTimeout(this.timer)
    this.timer = setTimeout(this.pollHere, ms)
    this.timer.unref()
  }

  private poll() {
    this.timer = undefined
    this.polling = this.claimAndLaunch().finally(() => {
      this.polling = undefined
      if (this.stopping) return
      const again = this.pollAgain
      this.pollAgain = false
      this.arm(again ? 0 : this.pollIntervalMs)
    })
  }

  private async claimAndLaunch() {
    try {
      const jobs = createRepos(this.storage.db).jobs
      const now = Date.now()
      if (now - this.lastReclaim >= this.reclaimIntervalMs) {
        this.lastReclaim = now
        for (const job of await jobs.reclaimExpired(now))
          this.log.warn(
            { job: job.id, kind: job.kind, status: job.status, owner: job.lease_owner },
            'lease expired; job reclaimed',
          )
      }
      const free = this.concurrency - this.active.size
      if (free <= 0) return
      const claimed = await jobs.claim(this.owner, this.claimKinds(), free)
      for (const row of claimed) this.launch(row)
    } catch (error) {
      this.log.error({ err: error }, 'job poll failed')
    }
  }

  private claimKinds() {
    const only = this.options.kinds
    return this.catalog
      .list()
      .filter((k) => !only || only.includes(k.kind))
      .map((k) => ({ kind: k.kind, leaseMs: k.leaseMs, maxAttempts: k.maxAttempts }))
  }

  private launch(row: JobRow) {
    // claim() took only kinds from the catalog, which never unregisters one
    const kind = this.catalog.get(row.kind)!
    const active: Active = {
      row,
      kind,
      controller: new AbortController(),
      leaseExpiresAt: row.lease_expires_at ?? 0,
      settled: false,
      abandoned: false,
      done: Promise.resolve(),
    }
    this.active.set(row.id, active)
    this.scheduleHeartbeat(active)
    active.done = this.execute(active).finally(() => {
      clearTimeout(active.heartbeat)
      this.active.delete(row.id)
      // a slot is free: take the next due job now rather than at the next poll
      this.wake()
    })
  }

  private async execute(active: Active) {
    const { row, kind, controller } = active
    const log = this.log.child({ job: row.id, kind: row.kind, attempt: row.attempts })
    let failure: { error: unknown } | undefined
    try {
      const payload = parsePayload(row, kind)
      await kind.handler({
        job: {
          id: row.id,
          kind: row.kind,
          attempt: row.attempts,
          maxAttempts: row.max_attempts ?? kind.maxAttempts,
        },
        payload,
        progress: row.progress === null ? null : JSON.parse(row.progress),
        signal: controller.signal,
        setProgress: (progress) => this.setProgress(active, progress),
        log,
      })
    } catch (error) {
      failure = { error }
    }
    active.settled = true
    clearTimeout(active.heartbeat)
    if (active.abandoned) return
    if (abortReason(controller.signal) === 'lease-lost') {
      log.warn('handler ended after its lease was lost; its outcome is dropped')
      return
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.record(active, failure, log)
        return
      } catch (error) {
        // the database is away (a restart): try again while our lease holds, so a job that
        // finished during the outage is recorded once it is back rather than run again
        const pause = Math.min(2_000, 100 * 2 ** attempt)
        if (error instanceof StoreUnavailableError && !active.abandoned && Date.now() + pause < active.leaseExpiresAt) {
          await new Promise((resolve) => setTimeout(resolve, pause).unref())
          continue
        }
        // the lease runs out and the job is reclaimed: at-least-once, never lost
        log.error({ err: error }, 'could not record the job outcome')
        return
      }
    }
  }

  private async record(
    active: Active,
    failure: { error: unknown } | undefined,
    log: typeof jobLog,
  ) {
    const jobs = createRepos(this.storage.db).jobs
    const { row, kind, controller } = active
    if (!failure) {
      if (await jobs.complete(row.id, this.owner)) log.debug('job succeeded')
      return
    }
    if (abortReason(controller.signal) === 'cancel') {
      if (await jobs.markCancelled(row.id, this.owner)) log.info('job cancelled')
      return
    }
    const { error } = failure
    const message = error instanceof Error ? error.message : String(error)
    const retryIn =
      error instanceof PermanentJobError ? null : retryDelayMs(row.attempts, kind.backoff)
    const status = await jobs.fail(row.id, this.owner, message, retryIn)
    const fields = { err: error, status, retryInMs: status === 'queued' ? retryIn : undefined }
    if (status === 'queued') log.warn(fields, 'job failed; will retry')
    else log.error(fields, 'job failed')
  }

  private async setProgress(active: Active, progress: unknown) {
    if (active.abandoned) return
    const saved = await createRepos(this.storage.db).jobs.setProgress(
      active.row.id,
      this.owner,
      progress,
    )
    if (!saved) this.abort(active, 'lease-lost')
  }

  private scheduleHeartbeat(active: Active) {
    active.heartbeat = setTimeout(() => void this.heartbeat(active), active.kind.heartbeatMs)
    active.heartbeat.unref()
  }

  private async heartbeat(active: Active) {
    const { row, kind } = active
    const now = Date.now()
    try {
      const status = await createRepos(this.storage.db).jobs.heartbeat(
        row.id,
        this.owner,
        kind.leaseMs,
        now,
      )
      if (active.settled || active.abandoned) return
      if (status === undefined) return this.abort(active, 'lease-lost')
      active.leaseExpiresAt = now + kind.leaseMs
      if (status === 'cancelling') this.abort(active, 'cancel')
    } catch (error) {
      if (active.settled || active.abandoned) return
      this.log.warn({ err: error, job: row.id }, 'heartbeat failed')
      // without a confirmed lease another runner may take the job once it expires: stop first
      if (Date.now() >= active.leaseExpiresAt) return this.abort(active, 'lease-lost')
    }
    this.scheduleHeartbeat(active)
  }

  private abort(active: Active, reason: JobAbortReason) {
    if (active.controller.signal.aborted) return
    this.log.info({ job: active.row.id, kind: active.row.kind, reason }, 'aborting job handler')
    active.controller.abort(new JobAbort(reason))
    // a lost lease ends our part; a cancelled job keeps its lease while the handler winds down
    if (reason === 'lease-lost') clearTimeout(active.heartbeat)
  }
}

/** A payload that does not parse will never parse: the job fails without retries. */
function parsePayload(row: JobRow, kind: JobKind): unknown {
  let json: unknown
  try {
    json = JSON.parse(row.payload)
  } catch {
    throw new PermanentJobError(`payload of ${row.kind} job is not JSON`)
  }
  const parsed = kind.payload.safeParse(json)
  if (!parsed.success)
    throw new PermanentJobError(`invalid payload for ${row.kind}: ${parsed.error.message}`)
  return parsed.data
}

function abortReason(signal: AbortSignal): JobAbortReason | undefined {
  return signal.aborted && signal.reason instanceof JobAbort ? signal.reason.reason : undefined
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
