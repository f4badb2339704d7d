import { setTimeout as sleep } from 'node:timers/promises'
import { jobLog } from '../logger.js'
import { withLeaderLock, type LeaderSession } from '../storage/dialect.js'
import type { Storage } from '../storage/storage.js'

/** A periodic task that must run on one node at a time (file expiry, job pruning...). */
export type Sweep = {
  name: string
  /** run at most this often; it runs first as soon as this node becomes the leader */
  everyMs: number
  /**
   * Must be idempotent: when leadership moves (a leader's connection dies), the new leader may
   * start a sweep the old one is still finishing. Stop when `signal` aborts.
   */
  run(signal: AbortSignal): Promise<void>
}

export type LeaderOptions = {
  /** the advisory lock's key, the same on every node of one deployment */
  lockKey?: number
  /** how often a follower tries to take over, and a leader checks for due sweeps (default 5 s) */
  checkMs?: number
  /** how long destroy() waits for a sweep to stop after aborting it (default 10 s) */
  shutdownTimeoutMs?: number
}

// 'PLN' 02 (bootstrap uses 'PLN' 01)
const LEADER_LOCK = 0x504c4e02

/**
 * One node leads and runs the singleton sweeps: on PostgreSQL, the one holding an advisory lock
 * (storage/dialect.ts `withLeaderLock`); on SQLite, the process. Followers retry every `checkMs`,
 * so a crashed leader is replaced within about that long.
 */
export class Leader {
  private readonly sweeps = new Map<string, Sweep>()
  private readonly lastRun = new Map<string, number>()
  private readonly controller = new AbortController()
  private readonly checkMs: number
  private loop?: Promise<void>
  private leading = false
  private readonly log = jobLog.child({ leader: true })

  constructor(
    private readonly storage: Storage,
    private readonly options: LeaderOptions = {},
  ) {
    this.checkMs = options.checkMs ?? 5_000
  }

  register(sweep: Sweep): this {
    if (this.sweeps.has(sweep.name)) throw new Error(`sweep ${sweep.name} is already registered`)
    this.sweeps.set(sweep.name, sweep)
    return this
  }

  get isLeader(): boolean {
    return this.leading
  }

  start() {
    if (this.loop || this.controller.signal.aborted) return
    this.loop = this.contend()
  }

  /** Aborts the running sweep, waits for it (up to the timeout), and gives the lock up. */
  async destroy(timeoutMs = this.options.shutdownTimeoutMs ?? 10_000): Promise<void> {
    this.controller.abort()
    if (!this.loop) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([this.loop, timeout])
    clearTimeout(timer)
  }

  private async contend() {
    const { signal } = this.controller
    while (!signal.aborted) {
      try {
        const lockKey = this.options.lockKey ?? LEADER_LOCK
        await withLeaderLock(this.storage.db, this.storage.dialect, lockKey, (session) =>
          this.lead(session),
        )
      } catch (error) {
        this.log.warn({ err: error }, 'leader election failed')
      }
      this.leading = false
      await pause(this.checkMs, signal)
    }
  }

  private async lead(session: LeaderSession) {
    const { signal } = this.controller
    this.leading = true
    this.log.info('this node leads the singleton sweeps')
    while (!signal.aborted) {
      if (!(await session.alive())) {
        this.log.warn('lost the leader lock')
        return
      }
      for (const sweep of this.sweeps.values()) {
        if (signal.aborted) return
        const last = this.lastRun.get(sweep.name)
        if (last !== undefined && Date.now() - last < sweep.everyMs) continue
        this.lastRun.set(sweep.name, Date.now())
        try {
          await sweep.run(signal)
        } catch (error) {
          this.log.error({ err: error, sweep: sweep.name }, 'sweep failed')
        }
      }
      await pause(this.checkMs, signal)
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal, ref: false }).catch(() => undefined)
}
