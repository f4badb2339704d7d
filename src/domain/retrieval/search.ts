import { vectorStoreExpired, vectorStoreNotFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { UsageEntry } from '../inference/usage.js'
import type { Attributes, Filter } from '../../schemas/vector-stores.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { VectorStoreRow } from '../../storage/repositories/vector-stores.js'
import type { Storage } from '../../storage/storage.js'
import type { Hit, VectorIndex } from '../../storage/vector-index/vector-index.js'
import type { Embedder } from './embedder.js'
import { checkFilter } from './filters.js'
import { isExpired } from './objects.js'
import { QueryRewriter } from './query-rewriter.js'
import { keywordTerms } from './query-terms.js'

export type SearchOptions = {
  /** 1-50 */
  maxNumResults: number
  filters?: Filter
  /** results scoring below it are left out (0-1) */
  scoreThreshold?: number
  /** each query is rewritten first (QueryRewriter; search_query shows what was searched) */
  rewriteQuery?: boolean
  /** file_search in runs: a store deleted or expired since the assistant named it is passed over */
  skipUnavailable?: boolean
  signal?: AbortSignal
}

/** One chunk found: what file_search and the search endpoint show of it. */
export type SearchResult = {
  storeId: string
  fileId: string
  filename: string
  /** 0-1: the reciprocal rank fusion of the chunk's ranks, 1 when first on every list */
  score: number
  attributes: Attributes | null
  text: string
}

/** How stale last_active_at may be before a search moves it. */
const TOUCH_EVERY_SECONDS = 60

/** RRF's constant: a rank r counts 1 / (K + r). 60 is the value of the original paper. */
const RRF_K = 60

/**
 * Hybrid search over vector stores: for each query, the chunks nearest to its embedding and the
 * chunks that best match its words (BM25 on SQLite, ts_rank_cd on PostgreSQL) are fused by
 * reciprocal rank fusion. Words find what a meaningless test embedding cannot; vectors find what
 * shares no word with the query. Only completed files are searched, and the attribute filter runs
 * inside both queries.
 */
export class Retrieval {
  constructor(
    private readonly storage: Storage,
    private readonly index: VectorIndex,
    private readonly embedder: Embedder,
    private readonly rewriter = new QueryRewriter(undefined, undefined),
  ) {}

  /** Files of the stores still being ingested (file_search in runs waits for them). */
  async pendingFiles(storeIds: string[]): Promise<number> {
    const tallies = await createRepos(this.storage.db).vectorStoreFiles.tallyByStore([...new Set(storeIds)])
    return [...tallies.values()].reduce((n, tally) => n + tally.in_progress, 0)
  }

  /**
   * Searches the project's stores (file_search in runs passes the assistant's and the thread's).
   * Unknown stores are 404 (H3), expired ones 400. Results are ranked best first, at most
   * `maxNumResults`; each names its file and carries the chunk's text. `usage` is what the search
   * cost, for the caller to bill: the queries' embedding tokens per embedding model (and the
   * rewrite model's completion, when one rewrote them).
   */
  async search(
    principal: ProjectPrincipal,
    storeIds: string[],
    query: string | string[],
    options: SearchOptions,
  ): Promise<{ searchQuery: string[]; results: SearchResult[]; usage: UsageEntry[] }> {
    if (options.filters) checkFilter(options.filters, 'filters')
    const repos = createRepos(this.storage.db)
    const now = nowSeconds()
    const stores: VectorStoreRow[] = []
    for (const id of new Set(storeIds)) {
      const store = await repos.vectorStores.get(principal.projectId, id)
      if ((!store || isExpired(store, now)) && options.skipUnavailable) continue
      if (!store) throw vectorStoreNotFound(id)
      if (isExpired(store, now)) throw vectorStoreExpired(id)
      stores.push(store)
    }
    const signal = options.signal ?? new AbortController().signal
    const usage: UsageEntry[] = []
    const queries: string[] = []
    for (const q of Array.isArray(query) ? query : [query]) {
      if (!options.rewriteQuery) {
        queries.push(q)
        continue
      }
      const rewritten = await this.rewriter.rewrite(principal, q, signal)
      queries.push(rewritten.query)
      usage.push(...rewritten.usage)
    }
    // a write per search would queue every search behind the database's write lock: last_active_at
    // (and the expiry it moves) keeps minute precision instead
    for (const store of stores) {
      if (now - store.last_active_at >= TOUCH_EVERY_SECONDS) await repos.vectorStores.touch(store.project_id, store.id, now)
    }
    const perList = Math.max(20, options.maxNumResults * 2)
    const lists: Hit[][] = []
    // stores of one embedding model are searched together; each model embeds the query once
    const byModel = new Map<string, string[]>()
    for (const store of stores) byModel.set(store.embedding_model, [...(byModel.get(store.embedding_model) ?? []), store.id])
    for (const [model, ids] of byModel) {
      const stats = await repos.vectorStoreFiles.searchStats(ids)
      if (stats.chunks === 0) continue
      const scope = { storeIds: ids, filter: options.filters, stats }
      const embedded = await this.embedder.embed(model, queries, signal)
      // OpenAI bills a search's query embedding apart from storage: here, as the model's embeddings
      usage.push({ operation: 'embeddings', model, inputTokens: embedded.inputTokens, outputTokens: 0 })
      for (const [i, text] of queries.entries()) {
        lists.push(await this.index.vectorSearch(this.storage.db, { ...scope, embedding: embedded.vectors[i], limit: perList }))
        const terms = keywordTerms(text)
        if (terms.length) lists.push(await this.index.keywordSearch(this.storage.db, { ...scope, terms, limit: perList }))
      }
    }
    const fused = fuse(lists, queries.length * 2 * Math.max(1, byModel.size))
      .filter((hit) => hit.score >= (options.scoreThreshold ?? 0))
      .slice(0, options.maxNumResults)
    const records = new Map((await this.index.load(this.storage.db, fused.map((h) => h.seq))).map((r) => [r.seq, r]))
    const results = fused.flatMap((hit) => {
      const record = records.get(hit.seq)
      if (!record) return []
      return [
        {
          storeId: record.storeId,
          fileId: record.fileId,
          filename: record.filename,
          score: hit.score,
          attributes: record.attributes ? (JSON.parse(record.attributes) as Attributes) : null,
          text: record.text,
        },
      ]
    })
    return { searchQuery: queries, results, usage }
  }
}

/**
 * Reciprocal rank fusion: a chunk scores the sum of 1 / (60 + rank) over the lists it is on,
 * divided by what first place on all `lists` lists would score, so scores run from 0 to 1.
 */
export function fuse(lists: Hit[][], listCount: number): Hit[] {
  const scores = new Map<number, number>()
  for (const list of lists) {
    list.forEach((hit, rank) => scores.set(hit.seq, (scores.get(hit.seq) ?? 0) + 1 / (RRF_K + rank + 1)))
  }
  const best = listCount / (RRF_K + 1)
  return [...scores]
    .map(([seq, score]) => ({ seq, score: Math.min(1, score / best) }))
    .sort((a, b) => b.score - a.score || a.seq - b.seq)
}
