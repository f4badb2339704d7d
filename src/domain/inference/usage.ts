import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { dbLog } from '../../logger.js'

export type UsageOperation =
  | 'completions'
  | 'embeddings'
  | 'moderations'
  | 'images'
  | 'audio_speeches'
  | 'audio_transcriptions'

export type UsageEntry = {
  operation: UsageOperation
  model: string
  inputTokens: number
  outputTokens: number
  cachedTokens?: number
  batch?: boolean
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
      created_at: nowSeconds(),
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
      await createRepos(this.storage.db).usage.insertMany(batch.map((p) => p.row))
    } catch (error) {
      // the answers were already given; a lost usage row is logged, never turned into a failed request
      dbLog.error({ err: error, rows: batch.length }, 'failed to record usage')
    } finally {
      for (const p of batch) p.done()
    }
  }
}
