import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { jobLog } from '../../logger.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { VectorIndex } from '../../storage/vector-index/vector-index.js'
import { usageQueries } from '../inference/usage.js'
import type { PurgePayload } from './objects.js'

/**
 * Chunks deleted per transaction. On SQLite a statement holds the event loop while it runs, and
 * each chunk's delete also updates the FTS5 and vec0 tables: 200 keep a page to a few milliseconds.
 */
const PURGE_PAGE = 200
const SWEEP_PAGE = 100
const DAY = 86400

/**
 * Background upkeep of vector stores: purging what was removed (the `vector_store.purge` job),
 * expiring stores (a leader sweep) and the daily usage snapshot of their bytes.
 */
export class VectorStoreMaintenance {
  constructor(
    private readonly storage: Storage,
    private readonly index: VectorIndex,
  ) {}

  /**
   * Deletes a removed file's chunks, or a deleted store's files, batches and chunks, a page per
   * transaction. Idempotent: a second run finds nothing left.
   */
  async purge(payload: PurgePayload, signal: AbortSignal): Promise<void> {
    if (payload.attachmentId) return this.purgeChunks({ attachmentId: payload.attachmentId }, signal)
    // a store id that exists again is not ours to purge (ids are never reused, but be sure)
    if (await createRepos(this.storage.db).vectorStores.getAny(payload.storeId)) return
    for (;;) {
      signal.throwIfAborted()
      const files = await createRepos(this.storage.db).vectorStoreFiles.ofStore(payload.storeId, SWEEP_PAGE)
      for (const file of files) {
        await this.purgeChunks({ attachmentId: file.id }, signal)
        await createRepos(this.storage.db).vectorStoreFiles.delete(file.id)
      }
      if (files.length < SWEEP_PAGE) break
    }
    await this.purgeChunks({ storeId: payload.storeId }, signal)
    await createRepos(this.storage.db).vectorStoreFileBatches.deleteOfStore(payload.storeId)
  }

  private async purgeChunks(of: { attachmentId: string } | { storeId: string }, signal: AbortSignal) {
    for (;;) {
      signal.throwIfAborted()
      const deleted = await this.storage.transaction((tx) => this.index.purge(tx.db, of, PURGE_PAGE))
      if (deleted < PURGE_PAGE) return
      await yieldToLoop()
    }
  }

  /** Stores whose expiry passed become `expired` (reads already say so; this makes it stick). */
  async expire(now = nowSeconds()): Promise<number> {
    let count = 0
    for (;;) {
      const ids = await createRepos(this.storage.db).vectorStores.expire(now, SWEEP_PAGE)
      count += ids.length
      if (ids.length < SWEEP_PAGE) break
    }
    if (count) jobLog.info({ count }, 'vector stores expired')
    return count
  }

  /**
   * The usage API's `vector_stores` results: each project's bytes held today, recorded at the
   * day's start. A day's records add up to the latest snapshot of that day: each run records the
   * change since the last one, and the ledger (vector_store_usage_days) moves in the same
   * transaction, so a crash never records a change twice.
   */
  async recordUsage(now = nowSeconds()): Promise<number> {
    const day = now - (now % DAY)
    const repos = createRepos(this.storage.db)
    const current = await repos.vectorStores.bytesByProject()
    const held = new Map(current.map((p) => [p.project_id, p]))
    // projects that held bytes earlier today and hold none now
    for (const recorded of await repos.vectorStoreUsageDays.ofDay(day)) {
      if (!held.has(recorded.project_id) && recorded.usage_bytes !== 0) {
        const project = await repos.projects.get(recorded.project_id)
        if (project) held.set(recorded.project_id, { project_id: project.id, org_id: project.org_id, usage_bytes: 0 })
      }
    }
    let changed = 0
    for (const project of held.values()) {
      await this.storage.transaction(async (tx) => {
        const txRepos = createRepos(tx.db)
        const recorded = (await txRepos.vectorStoreUsageDays.get(project.project_id, day)) ?? 0
        const delta = project.usage_bytes - recorded
        if (delta === 0) return
        await txRepos.vectorStoreUsageDays.set(project.project_id, day, project.usage_bytes)
        await tx.runBatch(
          usageQueries(tx, [
            {
              id: newId('usage_'),
              org_id: project.org_id,
              project_id: project.project_id,
              api_key_id: null,
              operation: 'vector_stores',
              model: '',
              input_tokens: 0,
              output_tokens: 0,
              cached_tokens: 0,
              requests: 0,
              batch: 0,
              created_at: day,
              usage_bytes: delta,
            },
          ]),
        )
        changed++
      })
    }
    return changed
  }
}
