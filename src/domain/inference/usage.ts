import { tokens } from '../../metrics.js'
import { noteUsage } from '../../request-context.js'
import type { CompiledQuery } from 'kysely'
import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { dbLog } from '../../logger.js'
import { rollupsOf } from '../usage/rollup.js'
import { tracing } from '../../tracing/tracing.js'

export type UsageOperation =
  | 'completions'
  | 'embeddings'
  | 'moderations'
  | 'images'
  | 'audio_speeches'
  | 'audio_transcriptions'
  | 'vector_stores'
  | 'code_interpreter_sessions'
  /** trained tokens of a fine-tuning job (no usage endpoint in the spec; priced in costs) */
  | 'fine_tuning'

export type UsageEntry = {
  operation: UsageOperation
  model: string
  inputTokens: number
  outputTokens: number
  cachedTokens?: number
  batch?: boolean
  /** the usage API's other units, for the operations that have them */
  inputAudioTokens?: number
  outputAudioTokens?: number
  images?: number
  characters?: number
  seconds?: number
  usageBytes?: number
  sessions?: number
  /** images: image.generation | image.edit | image.variation, and the size */
  source?: string
  size?: string
  /** when the usage happened, unix seconds (default: now) */
  at?: number
}

/**
 * Takes a request's usage instead of the recorder. A caller that saves the request's result (a
 * batch line, a run turn) writes the rows with it, in one transaction: a saved result is billed
 * exactly once, and a result lost in a crash, which runs again, was not billed at all.
 */
export type UsageSink = (entry: UsageEntry) => void

/** The metrics' token counters, and the access log's line for the request in flight (if any). */
function countTokens(principal: Principal, entry: UsageEntry) {
  if (!entry.inputTokens && !entry.outputTokens) return
  const project = principal.projectId ?? ''
  if (entry.inputTokens) tokens.inc(entry.inputTokens, entry.model, project, 'input')
  if (entry.outputTokens) tokens.inc(entry.outputTokens, entry.model, project, 'output')
  noteUsage(principal.request, entry.model, entry.inputTokens, entry.outputTokens)
}

/** The record of one request; undefined for a principal without a project (nothing to bill). */
export function usageRow(principal: Principal, entry: UsageEntry): UsageRecordInsert | undefined {
  if (!principal.projectId) return undefined
  return {
    id: newId('usage_'),
    org_id: principal.orgId,
    project_id: principal.projectId,
    api_key_id: principal.keyId,
    operation: entry.operation,
    model: entry.model,
    input_tokens: entry.inputTokens,
    output_tokens: entry.outputTokens,
    cached_tokens: entry.cachedTokens ?? 0,
    requests: 1,
    batch: entry.batch ? 1 : 0,
    created_at: entry.at ?? nowSeconds(),
    input_audio_tokens: entry.inputAudioTokens ?? 0,
    output_audio_tokens: entry.outputAudioTokens ?? 0,
    images: entry.images ?? 0,
    characters: entry.characters ?? 0,
    seconds: entry.seconds ?? 0,
    usage_bytes: entry.usageBytes ?? 0,
    sessions: entry.sessions ?? 0,
    source: entry.source ?? null,
    size: entry.size ?? null,
  }
}

/**
 * The statements that write usage records and add them to the rollups the usage API reads, to
 * run in one transaction (`Storage.runBatch`, or inside `Storage.transaction`): a query never
 * sees the one without the other.
 */
export function usageQueries(storage: Storage, rows: readonly UsageRecordInsert[]): CompiledQuery[] {
  if (!rows.length) return []
  const repos = createRepos(storage.db)
  return [...repos.usage.insertQueries(rows), ...repos.usageRollups.addQueries(rollupsOf(rows))]
}

const RESOLVED = Promise.resolve()

/**
 * Flushes start at most this often. A flush's cost is mostly its transaction (begin, the WAL
 * write, commit: 60-130 µs of CPU on SQLite whatever it holds), so the rows of a few turns go
 * together: at 3,000 requests a second about 90 requests a flush instead of 15-20. At low load
 * the window also keeps the commit (synchronous on SQLite) off most requests' way: a flush after
 * every answer met the next request of a sequential client and added about 0.2 ms to its p50.
 */
export const USAGE_FLUSH_MS = 20

/**
 * The usage records of inference requests: the ground for usage, costs and token limits.
 * Requests that finish in the same event-loop turn are summed per record key (project, key,
 * operation, model, batch flag, second, image source and size) into one row whose `requests`
 * says how many it holds: every sum the usage and costs APIs, the rollups and the limits read is
 * the same as with a row per request, for a fraction of the writes (a row per request cost about
 * as much as the rest of a proxied request's own work). Requests do not wait for their rows (on
 * SQLite that wait was 0.15-0.2 ms of every answer): the flush runs right after the answers are
 * written, in the same turn when the last flush is USAGE_FLUSH_MS old, else when it will be.
 * Readers of usage wait for `settled()`, which flushes at once; shutdown flushes what is left. A
 * crash loses at most the rows of the last USAGE_FLUSH_MS.
 *
 * The rows of a turn share one promise: a promise and a closure per row were a measurable part
 * of the garbage a proxied request leaves.
 */
export class UsageRecorder {
  /** The rows of this turn by record key (recordKey). */
  private rows = new Map<string, UsageRecordInsert>()
  /** Resolves once the rows now waiting, and every row before them, are committed. */
  private batch: Promise<void> | undefined
  private resolveBatch: (() => void) | undefined
  /** Resolves once every flush started so far is done. */
  private writing: Promise<void> = RESOLVED
  private readonly scheduledFlush = () => void this.flush()
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private lastFlushAt = -Infinity
  /** Told each flush's rows once committed (spend limits); a promise it returns is waited for by `settled()`. */
  onFlushed: ((rows: readonly UsageRecordInsert[]) => Promise<void> | undefined) | undefined

  constructor(
    private readonly storage: Storage,
    private readonly windowMs = USAGE_FLUSH_MS,
  ) {}

  /**
   * Adds the entry to the next flush's rows. With a `sink`, the entry goes there instead and
   * nothing is queued: the caller writes the row itself, in the transaction that saves the result
   * the row bills (batch lines, run turns; see `usageQueries`).
   */
  record(principal: Principal, entry: UsageEntry, sink?: UsageSink): Promise<void> {
    countTokens(principal, entry)
    if (sink) {
      sink({ ...entry, at: entry.at ?? nowSeconds() })
      return RESOLVED
    }
    if (!principal.projectId) return RESOLVED
    const at = entry.at ?? nowSeconds()
    const key = recordKey(principal, entry, at)
    const row = this.rows.get(key)
    if (row) addTo(row, entry)
    else this.rows.set(key, usageRow(principal, entry.at === at ? entry : { ...entry, at })!)
    if (!this.batch) {
      this.batch = new Promise<void>((resolve) => (this.resolveBatch = resolve))
      const wait = this.lastFlushAt + this.windowMs - performance.now()
      if (wait <= 0) this.immediate = setImmediate(this.scheduledFlush)
      else this.timer = setTimeout(this.scheduledFlush, wait)
    }
    return this.batch
  }

  /**
   * Resolves once every record made so far is committed. Readers of usage (the usage and costs
   * APIs, the dashboard) wait for it, so a caller always sees its own requests, although the
   * requests themselves no longer wait for their rows.
   */
  settled(): Promise<void> {
    const batch = this.batch
    if (!batch) return this.writing
    // a reader does not wait out the window
    void this.flush()
    return batch
  }

  async flush(): Promise<void> {
    const rows = [...this.rows.values()]
    const resolve = this.resolveBatch
    if (!resolve) return
    // a flush called (settled, shutdown) before the scheduled one: that one would flush the
    // next rows early
    clearTimeout(this.timer)
    clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    this.lastFlushAt = performance.now()
    this.rows.clear()
    this.batch = undefined
    this.resolveBatch = undefined
    let written!: () => void
    // flushes may overlap (PostgreSQL runs them on separate connections): this one counts as
    // written once those before it are too
    const before = this.writing
    this.writing = new Promise<void>((done) => (written = done)).then(() => before)
    try {
      // the records and the rollups the usage API reads move together: a query never sees one
      // without the other
      const queries = usageQueries(this.storage, rows)
      if (tracing) {
        const attributes = { 'plinth.usage.rows': rows.length, 'db.system.name': this.storage.dialect === 'postgres' ? 'postgresql' : 'sqlite' }
        await tracing.span('plinth.usage.flush', () => this.storage.runBatch(queries), attributes)
      } else await this.storage.runBatch(queries)
      const counted = this.onFlushed?.(rows)
      if (counted) await counted
    } catch (error) {
      // the answers were already given; a lost usage row is logged, never turned into a failed request
      dbLog.error({ err: error, rows: rows.length }, 'failed to record usage')
    } finally {
      written()
      void this.writing.then(resolve)
    }
  }
}

/** What a recorder's row is kept apart by: every column that is not a sum. */
function recordKey(principal: Principal, entry: UsageEntry, at: number): string {
  // \u0001 for an absent source or size, which no value is
  return `${principal.projectId}\0${principal.keyId ?? '\u0001'}\0${entry.operation}\0${entry.model}\0${entry.batch ? 1 : 0}\0${at}\0${entry.source ?? '\u0001'}\0${entry.size ?? '\u0001'}`
}

/** Adds another request's entry to a row of the same key. */
function addTo(row: UsageRecordInsert, entry: UsageEntry) {
  row.requests = (row.requests ?? 0) + 1
  row.input_tokens += entry.inputTokens
  row.output_tokens += entry.outputTokens
  row.cached_tokens = (row.cached_tokens ?? 0) + (entry.cachedTokens ?? 0)
  if (entry.inputAudioTokens) row.input_audio_tokens = (row.input_audio_tokens ?? 0) + entry.inputAudioTokens
  if (entry.outputAudioTokens) row.output_audio_tokens = (row.output_audio_tokens ?? 0) + entry.outputAudioTokens
  if (entry.images) row.images = (row.images ?? 0) + entry.images
  if (entry.characters) row.characters = (row.characters ?? 0) + entry.characters
  if (entry.seconds) row.seconds = (row.seconds ?? 0) + entry.seconds
  if (entry.usageBytes) row.usage_bytes = (row.usage_bytes ?? 0) + entry.usageBytes
  if (entry.sessions) row.sessions = (row.sessions ?? 0) + entry.sessions
}
