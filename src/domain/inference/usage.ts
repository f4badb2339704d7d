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

type Pending = { row: UsageRecordInsert; done: () => void }

/**
 * One usage record per inference request: the ground for usage, costs and token limits.
 * Records that finish in the same event-loop turn are written as one multi-row insert: a single
 * insert per request cost about as much as the rest of a proxied request. Each caller still
 * waits for its own row to be committed, so a finished response always has its usage written.
 */
export class UsageRecorder {
  private pending: Pending[] = []
  private scheduled = false

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

  async flush(): Promise<void> {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    if (!batch.length) return
    try {
      // the records and the rollups the usage API reads move together: a query never sees one
      // without the other
      const rows = batch.map((p) => p.row)
      const repos = createRepos(this.storage.db)
      await this.storage.runBatch([...repos.usage.insertQueries(rows), ...repos.usageRollups.addQueries(rollupsOf(rows))])
    } catch (error) {
      // the answers were already given; a lost usage row is logged, never turned into a failed request
      dbLog.error({ err: error, rows: batch.length }, 'failed to record usage')
    } finally {
      for (const p of batch) p.done()
    }
  }
}
