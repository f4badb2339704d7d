import cluster, { type Worker } from 'node:cluster'
import os from 'node:os'
import type { Config } from './config/schema.js'
import { bootstrapOrganization, type BootstrapResult } from './domain/organization/bootstrap.js'
import { ClusterMetrics } from './cluster-metrics.js'
import { bootLog } from './logger.js'
import type { RelayedChange } from './storage/change-feed.js'
import { storageConfigFor } from './storage/dialect.js'
import { InProcessLimiter } from './storage/limits/in-process.js'
import { serveLimiter } from './storage/limits/ipc.js'
import { openStorage } from './storage/storage.js'

/**
 * `plinth serve --workers N` (docs/deployment.md): the primary process opens the database once
 * (migrations and the first start's keys), forks N workers that each run the whole server, and
 * restarts any that dies. The port is the primary's: node:cluster's default round-robin hands each
 * new connection to the next worker. (Workers sharing the listening socket and leaving the choice
 * to the kernel's accept() load them unevenly under keep-alive traffic, and Node 20 has no
 * SO_REUSEPORT option.) The primary handles connections only as they open, not requests.
 */

/** What a worker is told at fork (its environment) and tells the primary (messages). */
export type WorkerRole = {
  /** 1..N, kept by the worker that replaces a dead one */
  index: number
  /** runs the job runner and the leader's sweeps: one worker of N does */
  jobs: boolean
  /** the primary holds the rate limit counters (no Redis configured) */
  sharedLimiter: boolean
}

type WorkerMessage = { plinthWorker: 'ready'; url: string } | { plinthWorker: 'wake' }

export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? os.availableParallelism() : setting
}

/** This process's role, when it is a worker of `plinth serve --workers N`. */
export function workerRole(): WorkerRole | undefined {
  if (!cluster.isWorker) return undefined
  return {
    index: Number(process.env.PLINTH_WORKER_INDEX),
    jobs: process.env.PLINTH_WORKER_JOBS === '1',
    sharedLimiter: process.env.PLINTH_WORKER_SHARED_LIMITER === '1',
  }
}

/** Tells the primary this worker listens (the primary says the server is ready once all do). */
export function reportReady(url: string) {
  process.send?.({ plinthWorker: 'ready', url } satisfies WorkerMessage)
}

/** Asks the primary to wake the jobs worker's runner (a job was just enqueued here). */
export function wakeJobsWorker() {
  process.send?.({ plinthWorker: 'wake' } satisfies WorkerMessage, undefined, {}, () => {})
}

/** A worker restarted after a crash waits this long; longer after each crash in a row. */
const FIRST_RESTART_MS = 250
const MAX_RESTART_MS = 30_000
/** A worker that lived this long before it died starts again at the first delay. */
const STABLE_MS = 30_000
/** SIGTERM: workers drain (up to 10 s for streams, see main.ts); past this they are killed. */
const DRAIN_TIMEOUT_MS = 20_000

type Slot = { index: number; worker?: Worker; startedAt: number; crashes: number; ready: boolean; stopLimiter?: () => void; stopMetrics?: () => void }

export type ClusterServer = { url: string; close(): Promise<void> }

export class WorkerStartError extends Error {
  override name = 'WorkerStartError'
}

/**
 * Runs the primary: resolves once every worker listens. `printFirstStart` gets the keys the
 * bootstrap created, if this is the first start (printed once, here, never by a worker).
 */
export async function serveCluster(
  config: Config,
  count: number,
  printFirstStart: (url: string, created: NonNullable<BootstrapResult['created']>) => void,
): Promise<ClusterServer> {
  // migrations and the bootstrap run once, here, before any worker opens the database
  const storage = await openStorage(storageConfigFor(config.databaseUrl, config.dataDir))
  let bootstrap: BootstrapResult
  try {
    bootstrap = await bootstrapOrganization(storage, config)
  } finally {
    await storage.close()
  }
  // without Redis the counters live here, so that N workers allow a limit once, not N times
  const limiter = config.rateLimits.redisUrl ? undefined : new InProcessLimiter()
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({ index: i + 1, startedAt: 0, crashes: 0, ready: false }))
  // a scrape taken by any worker answers for all of them (cluster-metrics.ts)
  const metrics = new ClusterMetrics(() => slots.flatMap((s) => (s.ready && s.worker?.isConnected() ? [s.worker] : [])))
  let stopping = false
  let url = ''
  let started = false
  let startFailed: ((error: Error) => void) | undefined

  const fork = (slot: Slot) => {
    const worker = cluster.fork({
      PLINTH_WORKER_INDEX: String(slot.index),
      PLINTH_WORKER_JOBS: slot.index === 1 ? '1' : '0',
      PLINTH_WORKER_SHARED_LIMITER: limiter ? '1' : '0',
    })
    slot.worker = worker
    slot.startedAt = Date.now()
    slot.ready = false
    bootLog.info({ worker: slot.index, workerPid: worker.process.pid, jobs: slot.index === 1 }, `worker ${slot.index} started (pid ${worker.process.pid})`)
    if (limiter) slot.stopLimiter = serveLimiter(limiter, worker)
    slot.stopMetrics = metrics.serve(worker)
    worker.on('message', (message: WorkerMessage | RelayedChange) => {
      if (typeof message === 'object' && message !== null && 'plinthChanges' in message) {
        if (message.plinthChanges === 'publish') relayChange(slots, worker, message)
      } else if (message?.plinthWorker === 'ready') {
        slot.ready = true
        url = message.url
        if (!started && slots.every((s) => s.ready)) {
          started = true
          onAllReady()
        }
      } else if (message?.plinthWorker === 'wake') {
        const jobsWorker = slots[0].worker
        if (jobsWorker?.isConnected()) jobsWorker.send({ plinthJobs: 'wake' }, undefined, () => {})
      }
    })
    worker.on('exit', (code, signal) => {
      slot.stopLimiter?.()
      slot.stopMetrics?.()
      slot.worker = undefined
      if (stopping) return
      if (!started) {
        // a worker that cannot start (a port in use, a bad config) will not start on a retry
        startFailed?.(new WorkerStartError(`worker ${slot.index} exited while starting (${signal ?? `exit code ${code}`}); its error is above`))
        return
      }
      const lived = Date.now() - slot.startedAt
      if (lived >= STABLE_MS) slot.crashes = 0
      const delay = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** slot.crashes)
      slot.crashes++
      // its connections were reset by the kernel: clients see ECONNRESET on the requests in flight
      bootLog.error(
        { worker: slot.index, workerPid: worker.process.pid, code, signal, restartInMs: delay },
        `worker ${slot.index} (pid ${worker.process.pid}) died (${signal ?? `exit code ${code}`}); restarting in ${delay} ms`,
      )
      setTimeout(() => {
        if (!stopping) fork(slot)
      }, delay)
    })
  }

  let onAllReady = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    onAllReady = resolve
    startFailed = reject
  })
  for (const slot of slots) fork(slot)

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      stopping = true
      bootLog.info({ workers: count }, 'shutting down: the workers drain their requests')
      const alive = slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined && !w.isDead())
      await Promise.all(
        alive.map(
          (worker) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => worker.process.kill('SIGKILL'), DRAIN_TIMEOUT_MS)
              worker.once('exit', () => {
                clearTimeout(timer)
                resolve()
              })
              worker.process.kill('SIGTERM')
            }),
        ),
      )
      await limiter?.close()
      bootLog.info('stopped')
    })())

  try {
    await ready
  } catch (error) {
    await close()
    throw error
  }
  if (bootstrap.created) printFirstStart(url, bootstrap.created)
  bootLog.info({ url, database: storage.dialect, workers: count }, `Plinth ready on ${url}/v1 (${count} workers)`)
  return { url, close }
}

/**
 * A change one worker published (SQLite: RelayedChangeFeed), for every other worker: the jobs
 * worker among them, and one still starting, whose caches may already hold what changed. A
 * worker that is gone or going is skipped; a send that fails is ignored (its caches go with it).
 */
function relayChange(slots: Slot[], from: Worker, change: RelayedChange) {
  const message: RelayedChange = { plinthChanges: 'deliver', t: change.t, k: change.k ?? null, at: change.at }
  for (const slot of slots) {
    const worker = slot.worker
    if (worker && worker !== from && worker.isConnected()) worker.send(message, undefined, () => {})
  }
}
