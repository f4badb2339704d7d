import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { dbLog } from '../../logger.js'
import { rollupsOf } from '../usage/rollup.js'

export type UsageOperation =
  | 'completions'
  | 'embeddings'
  | 'moderations'
  | 'images'
  | 'audio_speeches'
  | 'audio_transcriptions'
  | 'vector_stores'
  | 'code_interpreter_sessions'

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

/** A row to write, or (row undefined) a reader waiting for the rows before it: see settled(). */
type Pending = { row: UsageRecordInsert | undefined; done: () => void }

/**
 * One usage record per inference request: the ground for usage, costs and token limits.
 * Records that finish in the same event-loop turn are written as one multi-row insert: a single
 * insert per request cost about as much as the rest of a proxied request. Requests do not wait
 * for their rows (on SQLite that wait was 0.15-0.2 ms of every answer): the flush runs in the
 * same turn, right after the answers are written. Readers of usage wait for `settled()`; shutdown
 * flushes what is left. A crash loses at most the rows of the turn in progress.
 */
export class UsageRecorder {
  private pending: Pending[] = []
  private scheduled = false
  /** The flush under way, if any. */
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly storage: Storage) {}

  record(principal: Principal, entry: UsageEntry): Promise<void> {
    if (!principal.projectId) return Promise.resolve()
    const row: UsageRecordInsert = {
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
    return new Promise((resolve) => {
      this.pending.push({ row, done: resolve })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => void this.flush())
      }
    })
  }

  /**
   * Resolves once every record made so far is committed. Readers of usage (the usage and costs
   * APIs, the dashboard) wait for it, so a caller always sees its own requests, although the
   * requests themselves no longer wait for their rows.
   */
  settled(): Promise<void> {
    if (!this.pending.length) return this.writing
    const writing = this.writing
    return new Promise<void>((resolve) => {
      this.pending.push({ row: undefined, done: resolve })
    }).then(() => writing)
  }

  async flush(): Promise<void> {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    if (!batch.length) return
    let written!: () => void
    // flushes may overlap (PostgreSQL runs them on separate connections): this one counts as
    // written once those before it are too
    const before = this.writing
    this.writing = new Promise<void>((resolve) => (written = resolve)).then(() => before)
    try {
      // the records and the rollups the usage API reads move together: a query never sees one
      // without the other
      const rows: UsageRecordInsert[] = []
      for (const p of batch) if (p.row) rows.push(p.row)
      const repos = createRepos(this.storage.db)
      await this.storage.runBatch([...repos.usage.insertQueries(rows), ...repos.usageRollups.addQueries(rollupsOf(rows))])
    } catch (error) {
      // the answers were already given; a lost usage row is logged, never turned into a failed request
      dbLog.error({ err: error, rows: batch.length }, 'failed to record usage')
    } finally {
      written()
      for (const p of batch) p.done()
    }
  }
}
