import type { PricingConfig } from '../../config/limits.js'
import { createRepos } from '../../storage/repositories/index.js'
import {
  ROLLUP_SUMS,
  type RollupDimension,
  type RollupQuery,
  type RollupResult,
} from '../../storage/repositories/usage-rollups.js'
import type { Storage } from '../../storage/storage.js'
import { encodePage, pageWindow, type PageWindow } from './buckets.js'
import { costResults } from './costs.js'
import { SUMMED, toResult, type Grouped, type UsageKind } from './results.js'

/** The parameters every usage endpoint shares (each endpoint's schema allows a subset). */
export type UsageParams = {
  start_time: number
  end_time?: number
  bucket_width: '1m' | '1h' | '1d'
  limit?: number
  page?: string
  project_ids?: string[]
  user_ids?: string[]
  api_key_ids?: string[]
  models?: string[]
  batch?: boolean
  sources?: string[]
  sizes?: string[]
  group_by?: string[]
}

export type CostsParams = Omit<UsageParams, 'bucket_width' | 'group_by'> & {
  bucket_width: '1d'
  group_by?: ('project_id' | 'line_item' | 'api_key_id')[]
}

export type Bucket = { object: 'bucket'; start_time: number; end_time: number; results: Record<string, unknown>[] }
export type UsagePage = { object: 'page'; data: Bucket[]; has_more: boolean; next_page: string | null }

/** The operations that cost money (usage records of other operations carry no price). */
/** The operations the costs API prices (and spend limits count). */
export const PRICED = ['completions', 'embeddings', 'moderations', 'images', 'audio_speeches', 'audio_transcriptions', 'code_interpreter_sessions', 'vector_stores', 'fine_tuning']

/**
 * The usage and costs endpoints. Every answer comes from the rollups (one row per bucket, key and
 * model, see migration 0006), never from the usage records, so a page costs the same whether the
 * organization made a thousand requests or a billion.
 */
export class UsageReports {
  constructor(
    private readonly storage: Storage,
    private readonly pricing: PricingConfig,
    /** The usage recorder of this node: its rows still being written are waited for. */
    private readonly recorder?: { settled(): Promise<void> },
  ) {}

  async usage(kind: UsageKind, params: UsageParams): Promise<UsagePage> {
    const window = pageWindow(params, params.bucket_width)
    const groupBy = new Set(params.group_by ?? [])
    const owners = groupBy.has('user_id') || params.user_ids ? await this.keyOwners() : undefined
    const apiKeyIds = keysFilter(params.api_key_ids, params.user_ids, owners)
    const dims: RollupDimension[] = []
    for (const field of ['project_id', 'api_key_id', 'model', 'batch', 'source', 'size'] as const) {
      if (groupBy.has(field) || (field === 'api_key_id' && groupBy.has('user_id'))) dims.push(field)
    }
    const rows = await this.rollups(window, {
      operations: [kind],
      projectIds: params.project_ids,
      apiKeyIds,
      models: params.models,
      batch: params.batch,
      sources: params.sources,
      sizes: params.sizes,
      groupBy: dims,
      sums: SUMMED[kind],
    })
    const grouped = owners && groupBy.has('user_id') ? byUser(rows, owners, groupBy.has('api_key_id')) : rows
    const perBucket = byBucket(grouped)
    return toPage(window, (start) => (perBucket.get(start) ?? []).map((row) => toResult(kind, row, groupBy)))
  }

  async costs(params: CostsParams): Promise<UsagePage> {
    const window = pageWindow(params, '1d', { fallback: 7, max: 180 })
    const groupBy = new Set(params.group_by ?? [])
    const dims: RollupDimension[] = ['model', 'operation']
    if (groupBy.has('project_id')) dims.push('project_id')
    if (groupBy.has('api_key_id')) dims.push('api_key_id')
    const rows = await this.rollups(window, {
      operations: PRICED,
      projectIds: params.project_ids,
      apiKeyIds: params.api_key_ids,
      groupBy: dims,
    })
    const perBucket = byBucket(rows)
    return toPage(window, (start) => costResults(perBucket.get(start) ?? [], this.pricing, groupBy))
  }

  private async rollups(window: PageWindow, q: Omit<RollupQuery, 'width' | 'from' | 'to'>): Promise<RollupResult[]> {
    if (!window.starts.length) return []
    const from = window.starts[0]
    const to = window.starts[window.starts.length - 1] + window.seconds
    // a caller sees its own requests: the rows this node is still writing go in first
    await this.recorder?.settled()
    return createRepos(this.storage.db).usageRollups.query({ ...q, width: window.width, from, to })
  }

  /**
   * key id → the user it acts as: its owner, or for keys the system made (bootstrap, the CLI
   * without --user) the organization's owner, as the project API keys endpoint and the audit log
   * show them. Service accounts' keys have no user.
   */
  private async keyOwners(): Promise<Map<string, string>> {
    const repos = createRepos(this.storage.db)
    const keys = await repos.apiKeys.list()
    const orgOwners = new Map<string, string | null>()
    for (const key of keys) {
      if (key.owner_id || orgOwners.has(key.org_id)) continue
      orgOwners.set(key.org_id, (await repos.organizations.get(key.org_id))?.owner_user_id ?? null)
    }
    const owners = new Map<string, string>()
    for (const key of keys) {
      if (key.owner_type === 'service_account') continue
      const user = key.owner_id ?? orgOwners.get(key.org_id)
      if (user) owners.set(key.id, user)
    }
    return owners
  }
}

/** api_key_ids and user_ids both narrow the keys: a key must pass both. */
function keysFilter(apiKeyIds?: string[], userIds?: string[], owners?: Map<string, string>): string[] | undefined {
  if (!userIds) return apiKeyIds
  const users = new Set(userIds)
  const ofUsers = [...(owners ?? [])].filter(([, user]) => users.has(user)).map(([key]) => key)
  const allowed = apiKeyIds ? ofUsers.filter((key) => apiKeyIds.includes(key)) : ofUsers
  // no key matches: a filter that matches nothing, not no filter
  return allowed.length ? allowed : ['']
}

/**
 * Rows grouped by key → rows grouped by the key's owner: user_id is not stored with usage, it is
 * the owner of the key that made the request (keys never change owners).
 */
function byUser(rows: RollupResult[], owners: Map<string, string>, keepKey: boolean): Grouped[] {
  const merged = new Map<string, Grouped>()
  for (const row of rows) {
    const user = owners.get(String(row.api_key_id)) ?? null
    const key = JSON.stringify([row.bucket_start, row.project_id, keepKey ? row.api_key_id : null, row.model, row.batch, row.source, row.size, user])
    const into = merged.get(key)
    if (!into) {
      merged.set(key, { ...row, user_id: user, ...(keepKey ? {} : { api_key_id: undefined }) })
      continue
    }
    for (const sum of ROLLUP_SUMS) into[sum] += row[sum]
  }
  return [...merged.values()]
}

function byBucket<R extends { bucket_start: number }>(rows: R[]): Map<number, R[]> {
  const out = new Map<number, R[]>()
  for (const row of rows) {
    const list = out.get(row.bucket_start)
    if (list) list.push(row)
    else out.set(row.bucket_start, [row])
  }
  return out
}

/** UsageResponse: every bucket of the page, empty ones included, and the cursor to the next. */
function toPage(window: PageWindow, resultsOf: (start: number) => Record<string, unknown>[]): UsagePage {
  return {
    object: 'page',
    data: window.starts.map((start) => ({
      object: 'bucket',
      start_time: start,
      end_time: start + window.seconds,
      results: resultsOf(start),
    })),
    has_more: window.next !== null,
    next_page: window.next === null ? null : encodePage(window.next),
  }
}
