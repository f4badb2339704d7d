import type { Principal } from '../../principal.js'
import { createRepos } from '../../storage/repositories/index.js'
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

/** One usage record per inference request: the ground for usage, costs and token limits. */
export class UsageRecorder {
  constructor(private readonly storage: Storage) {}

  async record(principal: Principal, entry: UsageEntry): Promise<void> {
    if (!principal.projectId) return
    try {
      await createRepos(this.storage.db).usage.insert({
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
      })
    } catch (error) {
      // the answer was already given; a lost usage row is logged, not turned into a failed request
      dbLog.error({ err: error }, 'failed to record usage')
    }
  }
}
