import type { Config } from '../../config/schema.js'
import { jobPrincipal, type ModelPolicy, type ProjectPrincipal } from '../../principal.js'
import { jobLog } from '../../logger.js'
import { Pacer } from '../../pacing.js'
import type { BatchEndpoint, BatchError } from '../../schemas/batches.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { BatchRow, BatchTokens, LineResult } from '../../storage/repositories/batches.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import { usageQueries, usageRow } from '../inference/usage.js'
import { FINISHED, type BatchJobPayload } from './batch-object.js'
import { chargeEnqueuedTokens, type EnqueuedTokenLimit } from './enqueued-tokens.js'
import { executeLine, type Inference, type LineOutcome } from './execute-line.js'
import { jsonlLines } from './jsonl.js'
import { writeResultFiles } from './output.js'
import {
  fileErrors,
  InputValidator,
  isBatchError,
  isNotFound,
  type ValidLine,
} from './validate-input.js'

export type BatchRunDeps = {
  storage: Storage
  files: FilesService
  inference: Inference
  /** whether the project (its model policy) may use the model, as a live request would */
  hasModel(model: string, policy: ModelPolicy | undefined): boolean
  limits: Config['batches']
  /** the project's batch queue limit, when rate limits are on */
  enqueuedTokens?: EnqueuedTokenLimit
}

export type RunOptions = {
  /** aborted when the job must stop: a cancel, a lost lease, a shutdown */
  signal: AbortSignal
  /** the job will not be retried after this run: fail the batch rather than leave it running */
  lastAttempt: boolean
}

/** Lines inserted per statement at validation, and read per page to run. */
const PAGE = 500
/** Request bytes inserted per statement at validation. */
const PAGE_BYTES = 512 * 1024
/** Lines read per page to run: a page is read in one synchronous step on SQLite. */
const RUN_PAGE = 50
/**
 * Results are written at most this many at once, and at least this often. SQLite writes in the
 * caller's turn: 25 results of echoed 18 KB lines are a 3 ms transaction, 100 were 12 ms.
 */
const FLUSH_LINES = 25
const FLUSH_MS = 500
/** A batch that fails validation lists at most this many line errors. */
const MAX_ERRORS = 1000

const EXPIRED_ERROR = {
  code: 'batch_expired',
  message: 'This request could not be executed before the completion window expired.',
}

/**
 * The batch.run job: moves a batch through validating → in_progress → finalizing → completed
 * (or failed, cancelling → cancelled, expired). It runs at least once and may run again after a
 * crash, so every step starts from what the database says: lines already given a result are not
 * run again, a result is written only once, and the files are built from the stored results.
 */
export class BatchRun {
  constructor(private readonly deps: BatchRunDeps) {}

  async run(ref: BatchJobPayload, options: RunOptions): Promise<void> {
    try {
      await this.advance(ref, options.signal)
    } catch (error) {
      // a cancel may have stopped us mid-step: finishing it is the job now
      const batch = await this.load(ref)
      if (batch?.status === 'cancelling') return this.finish(batch)
      if (options.signal.aborted || !batch || FINISHED.includes(batch.status)) throw error
      if (options.lastAttempt) await this.fail(batch, error)
      throw error
    }
  }

  private async advance(ref: BatchJobPayload, signal: AbortSignal) {
    for (;;) {
      const batch = await this.load(ref)
      if (!batch || FINISHED.includes(batch.status)) return
      const expired = nowSeconds() >= batch.expires_at
      switch (batch.status) {
        case 'validating':
          if (expired) return this.expire(batch)
          await this.validate(batch, signal)
          break
        case 'in_progress':
          if (expired) return this.expire(batch)
          await this.process(batch, signal)
          break
        default:
          // finalizing or cancelling: only the files and the last status are left
          return this.finish(batch)
      }
    }
  }

  private load(ref: BatchJobPayload) {
    return createRepos(this.deps.storage.db).batches.get(ref.projectId, ref.batchId)
  }

  private async principal(batch: BatchRow): Promise<ProjectPrincipal> {
    const project = await createRepos(this.deps.storage.db).projects.get(batch.project_id)
    // the key that created the batch, under the project's model permissions as they are now
    return jobPrincipal(batch, project)
  }

  private log(batch: BatchRow) {
    return jobLog.child({ batch: batch.id })
  }

  /** validating → in_progress, or failed with the line errors (F10). */
  private async validate(batch: BatchRow, signal: AbortSignal) {
    const { storage, files, limits } = this.deps
    const lines = createRepos(storage.db).batchLines
    const principal = await this.principal(batch)
    const validator = new InputValidator(
      batch.endpoint as BatchEndpoint,
      (model) => this.deps.hasModel(model, principal.models),
      limits,
    )
    const errors: BatchError[] = []
    let rows: ValidLine[] = []
    let source: AsyncIterable<Uint8Array>
    try {
      source = await (await files.content(principal, batch.input_file_id)).open()
    } catch (error) {
      if (!isNotFound(error)) throw error
      return this.failValidation(batch, [fileErrors.missing(batch.input_file_id, batch.org_id)])
    }
    const pacer = new Pacer()
    let pageBytes = 0
    for await (const line of jsonlLines(source, limits.maxLineBytes)) {
      signal.throwIfAborted()
      // lines of a chunk are checked without I/O in between: let other requests run
      await pacer.pace()
      const checked = await validator.check(line)
      if (checked === null) continue
      if (isBatchError(checked)) {
        errors.push(checked)
        if (errors.length >= MAX_ERRORS) break
        continue
      }
      if (validator.count > limits.maxRequests) {
        errors.push(fileErrors.tooManyRequests(line.lineNo, limits.maxRequests))
        break
      }
      // stored as we go (idempotently: a run after a crash may find some already there), so
      // a large file is never held whole; thrown away if the file turns out invalid
      if (errors.length === 0) {
        rows.push(checked)
        pageBytes += checked.request.length
      }
      // SQLite writes in the caller's turn: a page is also bounded in bytes
      if (rows.length >= PAGE || pageBytes >= PAGE_BYTES) {
        pageBytes = 0
        await lines.insert(
          rows.map((r) => ({ ...r, batch_id: batch.id, status: 'pending', result: null })),
        )
        rows = []
      }
    }
    if (errors.length === 0 && validator.count === 0) errors.push(fileErrors.empty())
    if (errors.length > 0) return this.failValidation(batch, errors)
    await lines.insert(
      rows.map((r) => ({ ...r, batch_id: batch.id, status: 'pending', result: null })),
    )
    const endpoint = batch.endpoint as BatchEndpoint
    const model = validator.batchModel!
    const overLimit = await chargeEnqueuedTokens(
      storage,
      this.deps.enqueuedTokens,
      principal,
      batch.id,
      endpoint,
      model,
    )
    if (overLimit) return this.failValidation(batch, [overLimit])
    await createRepos(storage.db).batches.transition(batch.project_id, batch.id, ['validating'], {
      status: 'in_progress',
      in_progress_at: nowSeconds(),
      request_total: validator.count,
      model,
    })
  }

  private async failValidation(batch: BatchRow, errors: BatchError[]) {
    this.log(batch).info({ errors: errors.length }, 'batch failed validation')
    await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      await repos.batchLines.delete(batch.id)
      await repos.batches.transition(batch.project_id, batch.id, ['validating'], {
        status: 'failed',
        failed_at: nowSeconds(),
        errors: JSON.stringify(errors),
      })
    })
  }

  /**
   * Runs the pending lines, `concurrency` at a time, writing results in small transactions that
   * also update request_counts and write the lines' usage (so a saved line is billed exactly
   * once, and a line a crash loses runs again unbilled). Stops early when the batch is cancelled or its window ends (the
   * lines in flight are aborted and stay pending), or when the job's signal aborts.
   */
  private async process(batch: BatchRow, jobSignal: AbortSignal) {
    const { storage, inference, limits } = this.deps
    const repos = createRepos(storage.db)
    const stop = new AbortController()
    const onAbort = () => stop.abort(jobSignal.reason)
    jobSignal.addEventListener('abort', onAbort, { once: true })
    const principal = await this.principal(batch)
    const endpoint = batch.endpoint as BatchEndpoint
    const done: LineOutcome[] = []
    const inFlight = new Set<Promise<void>>()
    const pacer = new Pacer()
    let lastFlush = Date.now()
    const flush = async () => {
      lastFlush = Date.now()
      const results = done.splice(0)
      const state = await storage.transaction(async (tx) => {
        const txRepos = createRepos(tx.db)
        const counts = await txRepos.batchLines.record(batch.id, results)
        const state = await txRepos.batches.addCounts(
          batch.project_id,
          batch.id,
          counts.completed,
          counts.failed,
          tokensOf(results, counts.written),
        )
        // last: the rollup rows are the ones live requests write to as well, held the shortest
        await tx.runBatch(usageQueries(tx, billed(principal, results, counts.written)))
        return state
      })
      // a cancel or the end of the window, seen here before any heartbeat tells the job
      if (!state || state.status !== 'in_progress' || nowSeconds() >= state.expires_at) stop.abort()
    }
    try {
      let after = 0
      dispatch: while (!stop.signal.aborted) {
        const page = await repos.batchLines.pending(batch.id, after, RUN_PAGE)
        if (page.length === 0) break
        for (const line of page) {
          after = line.line_no
          // storage and a line's start resolve without I/O: yield so the API keeps answering
          await pacer.pace()
          while (inFlight.size >= limits.concurrency) await Promise.race(inFlight)
          if (done.length >= FLUSH_LINES || Date.now() - lastFlush >= FLUSH_MS) await flush()
          if (stop.signal.aborted) break dispatch
          const running: Promise<void> = executeLine(
            inference,
            principal,
            endpoint,
            line,
            stop.signal,
          )
            .then((result) => void (result && done.push(result)))
            .finally(() => inFlight.delete(running))
          inFlight.add(running)
        }
      }
      await Promise.all(inFlight)
      await flush()
    } finally {
      jobSignal.removeEventListener('abort', onAbort)
    }
    jobSignal.throwIfAborted()
    const now = nowSeconds()
    // every line has a result unless we stopped early; a cancel or expiry is the next step's
    if (!stop.signal.aborted || (await repos.batchLines.pending(batch.id, 0, 1)).length === 0) {
      await repos.batches.transition(batch.project_id, batch.id, ['in_progress'], {
        status: 'finalizing',
        finalizing_at: now,
      })
    }
  }

  /**
   * The window ended first: lines not run get a `batch_expired` error line, the results so far
   * are written as files, and the batch is expired.
   */
  private async expire(batch: BatchRow) {
    const { storage } = this.deps
    if (batch.status === 'in_progress') {
      for (;;) {
        const page = await createRepos(storage.db).batchLines.pending(batch.id, 0, PAGE)
        if (page.length === 0) break
        const results: LineResult[] = page.map((line) => ({
          line_no: line.line_no,
          status: 'failed',
          result: JSON.stringify({
            id: newId('batch_req_'),
            custom_id: line.custom_id,
            response: null,
            error: EXPIRED_ERROR,
          }),
        }))
        await storage.transaction(async (tx) => {
          const repos = createRepos(tx.db)
          const counts = await repos.batchLines.record(batch.id, results)
          await repos.batches.addCounts(batch.project_id, batch.id, counts.completed, counts.failed)
        })
      }
      await writeResultFiles(storage, this.deps.files, (await this.load(ref(batch)))!)
    }
    await this.end(batch, ['validating', 'in_progress'], {
      status: 'expired',
      expired_at: nowSeconds(),
    })
    this.log(batch).info('batch expired')
  }

  /** finalizing → completed, or cancelling → cancelled: the files, then the last status. */
  private async finish(batch: BatchRow) {
    await writeResultFiles(this.deps.storage, this.deps.files, batch)
    const now = nowSeconds()
    const ended =
      batch.status === 'finalizing' &&
      (await this.end(batch, ['finalizing'], { status: 'completed', completed_at: now }))
    // cancelled, also when the cancel came in while the files were being written
    if (!ended) await this.end(batch, ['cancelling'], { status: 'cancelled', cancelled_at: now })
    this.log(batch).info({ status: ended ? 'completed' : 'cancelled' }, 'batch ended')
  }

  /** The last move, with the lines, whose results are in the files now, deleted with it. */
  private end(
    batch: BatchRow,
    from: BatchRow['status'][],
    set: Parameters<ReturnType<typeof createRepos>['batches']['transition']>[3],
  ): Promise<boolean> {
    return this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const moved = await repos.batches.transition(batch.project_id, batch.id, from, set)
      if (moved) await repos.batchLines.delete(batch.id)
      return moved
    })
  }

  /** The job failed for good on something other than the input: never leave the batch running. */
  private async fail(batch: BatchRow, error: unknown) {
    this.log(batch).error({ err: error }, 'batch job failed for good')
    const message = 'The batch could not be processed because of an internal error.'
    await this.end(batch, ['validating', 'in_progress', 'finalizing'], {
      status: 'failed',
      failed_at: nowSeconds(),
      errors: JSON.stringify([{ code: 'server_error', message, param: null, line: null }]),
    })
  }
}

/** The usage rows of the lines whose results were written now (not of lines another run wrote). */
function billed(principal: ProjectPrincipal, results: LineOutcome[], written: Set<number>) {
  return results.flatMap((r) =>
    written.has(r.line_no) ? r.usage.flatMap((entry) => usageRow(principal, entry) ?? []) : [],
  )
}

/** The tokens of the lines this flush gave a result: what the batch's `usage` adds up. */
function tokensOf(results: LineOutcome[], written: Set<number>): BatchTokens {
  const tokens = { input: 0, cached: 0, output: 0 }
  for (const r of results) {
    if (!written.has(r.line_no)) continue
    for (const entry of r.usage) {
      tokens.input += entry.inputTokens
      tokens.cached += entry.cachedTokens ?? 0
      tokens.output += entry.outputTokens
    }
  }
  return tokens
}

function ref(batch: BatchRow): BatchJobPayload {
  return { batchId: batch.id, projectId: batch.project_id }
}
