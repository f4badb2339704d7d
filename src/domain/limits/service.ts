import { rateLimiterFallbacks, rateLimitRejections } from '../../metrics.js'
import type { RateLimitsConfig } from '../../config/limits.js'
import { notFound, projectArchived, rateLimitReached, requestTooLarge, StoreUnavailableError } from '../../errors.js'
import { apiLog } from '../../logger.js'
import type { Principal } from '../../principal.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { InProcessLimiter } from '../../storage/limits/in-process.js'
import type { AcquireResult, Counter, CounterState, RateLimiter } from '../../storage/limits/limiter.js'
import type { RateLimitValues } from '../../storage/repositories/rate-limits.js'
import { createRepos } from '../../storage/repositories/index.js'
import { nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { goDuration } from './duration.js'
import {
  effectiveLimits,
  modelOfRateLimitId,
  toRateLimitObject,
  type Limits,
  type ProjectRateLimitObject,
} from './effective.js'
import { ProjectLimitsCache } from './project-limits.js'
import { actorOf, recordAudit } from '../organization/audit.js'
import { SpendTracker } from './spend.js'

/** What one request asks of the limits besides being one request. */
export type Demand = { tokens?: number; images?: number; audioMegabytes?: number }

/** A request's hold on its limits: the headers to send, and the token correction to make. */
export interface Reservation {
  /** x-ratelimit-* values as of this request; undefined when no limit applied */
  readonly headers: Record<string, string> | undefined
  /** Replaces the token estimate with the true count. Only the first call counts. */
  settle(actualTokens: number): void
}

export const UNLIMITED: Reservation = { headers: undefined, settle() {} }

const MINUTE = 60_000
const DAY = 86_400_000

type Dimension = { suffix: string; what: string; type: string; windowMs: number }
const RPM: Dimension = { suffix: 'rpm', what: 'requests per min (RPM)', type: 'requests', windowMs: MINUTE }
const TPM: Dimension = { suffix: 'tpm', what: 'tokens per min (TPM)', type: 'tokens', windowMs: MINUTE }
const RPD: Dimension = { suffix: 'rpd', what: 'requests per day (RPD)', type: 'requests', windowMs: DAY }
const IPM: Dimension = { suffix: 'ipm', what: 'images per min (IPM)', type: 'images', windowMs: MINUTE }
const AUDIO: Dimension = { suffix: 'apm', what: 'audio megabytes per min', type: 'audio', windowMs: MINUTE }
const BATCH: Dimension = { suffix: 'btpd', what: 'batch input tokens per day', type: 'tokens', windowMs: DAY }

const FAIL_OPEN_LOG_MS = 10_000
const MAX_PLANS = 10_000

type Plan = {
  /** the project's overrides this plan was made from (a new map after each read) */
  source: Map<string, RateLimitValues>
  limits: Limits
  keys: { rpm: string; tpm: string; rpd: string; ipm: string; apm: string }
}

/**
 * Rate limits per project and model (issue 5): requests and tokens per minute always, requests
 * per day, images and audio per minute when configured. The counters live behind a RateLimiter
 * (this process, or Redis for several nodes); the limits come from config and the project's own
 * settings, cached in memory, so a request costs no query.
 */
export class LimitsService {
  private readonly projects: ProjectLimitsCache
  private readonly plans = new Map<string, Plan>()
  private failOpenLoggedAt = -Infinity
  /** Counts while the shared limiter (Redis) does not answer: rateLimits.onRedisDown 'local'. */
  private readonly local = new InProcessLimiter()

  constructor(
    private readonly storage: Storage,
    private readonly limiter: RateLimiter,
    private readonly config: RateLimitsConfig,
    private readonly registry: ProviderRegistry,
    /** `changes.maxStaleMs`: the cache's bound unless `rateLimits.projectCacheMs` is set */
    maxStaleMs = 1000,
    /** hard spend limits: checked first, whether rate limits are enabled or not */
    readonly spend: SpendTracker = new SpendTracker(storage, { currency: 'usd', models: {}, vectorStoreGbDay: 0 }),
  ) {
    this.projects = new ProjectLimitsCache(storage, config.projectCacheMs ?? maxStaleMs)
  }

  /**
   * Charges one request and its estimated tokens to the project's limits for the model, or throws
   * OpenAI's 429. Unknown models are not limited here: the request fails with model_not_found
   * anyway, and counting them would let any string grow the counters.
   */
  async reserve(principal: Principal, model: string, demand: Demand = {}): Promise<Reservation> {
    const projectId = principal.projectId
    // every billable route comes here: a reached spend limit costs this one size test otherwise
    if (this.spend.over.size !== 0) this.spend.check(principal)
    if (!this.config.enabled || !projectId || !this.registry.has(model)) return UNLIMITED
    // the request path awaits nothing when the project's limits are cached and the counters are
    // in this process: every await is a turn of the microtask queue and an allocation
    const planned = this.planFor(projectId, model)
    const plan = planned instanceof Promise ? await planned : planned
    const { limits, keys } = plan
    const tokens = Math.max(0, Math.ceil(demand.tokens ?? 0))
    const dims: Dimension[] = [RPM, TPM]
    const counters: Counter[] = [
      { key: keys.rpm, limit: limits.max_requests_per_1_minute, windowMs: MINUTE, cost: 1 },
      { key: keys.tpm, limit: limits.max_tokens_per_1_minute, windowMs: MINUTE, cost: tokens },
    ]
    if (limits.max_requests_per_1_day) {
      dims.push(RPD)
      counters.push({ key: keys.rpd, limit: limits.max_requests_per_1_day, windowMs: DAY, cost: 1 })
    }
    if (demand.images && limits.max_images_per_1_minute) {
      dims.push(IPM)
      counters.push({ key: keys.ipm, limit: limits.max_images_per_1_minute, windowMs: MINUTE, cost: demand.images })
    }
    if (demand.audioMegabytes && limits.max_audio_megabytes_per_1_minute) {
      dims.push(AUDIO)
      const cost = demand.audioMegabytes
      counters.push({ key: keys.apm, limit: limits.max_audio_megabytes_per_1_minute, windowMs: MINUTE, cost })
    }
    for (let i = 0; i < counters.length; i++) {
      if (counters[i].cost > counters[i].limit) {
        const c = counters[i]
        rateLimitRejections.inc({ model, limit: dims[i].suffix })
        throw requestTooLarge({ model, orgId: principal.orgId, what: dims[i].what, type: dims[i].type }, { limit: c.limit, requested: c.cost })
      }
    }
    let result
    let limiter = this.limiter
    try {
      const acquired = this.limiter.acquire(counters)
      result = acquired instanceof Promise ? await acquired : acquired
    } catch (error) {
      result = this.acquireLocally(error, counters)
      limiter = this.local
    }
    const headers = rateLimitHeaders(counters[0], result.states[0], counters[1], result.states[1])
    if (!result.ok) {
      const c = counters[result.blocked]
      const dim = dims[result.blocked]
      rateLimitRejections.inc({ model, limit: dim.suffix })
      throw rateLimitReached(
        { model, orgId: principal.orgId, what: dim.what, type: dim.type },
        { limit: c.limit, used: Math.ceil(result.states[result.blocked].usedBefore - 1e-9), requested: c.cost },
        goDuration(Math.ceil(result.retryMs)),
        result.retryMs / 1000,
        headers,
      )
    }
    return new Held(this, limiter, counters[1], headers)
  }

  /**
   * Batch input tokens per day (`batch_1_day_max_input_tokens`), for the Batch API to charge when a
   * batch is queued. Returns OpenAI's message when the tokens do not fit; never throws a 429,
   * since the batch itself fails instead.
   */
  async reserveBatchTokens(principal: Principal, model: string, tokens: number): Promise<{ ok: true } | { ok: false; message: string }> {
    const projectId = principal.projectId
    if (!this.config.enabled || !projectId || !this.registry.has(model)) return { ok: true }
    const limit = (await this.limitsFor(projectId, model)).batch_1_day_max_input_tokens
    if (!limit) return { ok: true }
    const counter = { key: `{${projectId}:${model}}:${BATCH.suffix}`, limit, windowMs: DAY, cost: Math.ceil(tokens) }
    let ok = tokens <= limit
    if (ok) {
      try {
        ok = (await this.limiter.acquire([counter])).ok
      } catch (error) {
        ok = this.acquireLocally(error, [counter]).ok
      }
    }
    if (ok) return { ok: true }
    return {
      ok: false,
      message: `Enqueued token limit reached for ${model} in organization ${principal.orgId}. Limit: ${limit.toLocaleString('en-US')} enqueued tokens. Please try again once some in_progress batches have been completed.`,
    }
  }

  /** GET /organization/projects/{project_id}/rate_limits: one per model the server offers. */
  async list(projectId: string, query: { limit: number; after?: string; before?: string }): Promise<ListPage<ProjectRateLimitObject>> {
    await this.requireProject(projectId)
    const own = await createRepos(this.storage.db).rateLimits.listForProject(projectId)
    const byModel = new Map(own.map((row) => [row.model, row]))
    let all = this.models().map((model) => toRateLimitObject(model, effectiveLimits(this.config, model, byModel.get(model))))
    if (query.after) all = all.filter((o) => o.id > query.after!)
    if (query.before) {
      all = all.filter((o) => o.id < query.before!)
      // before: the page just before the cursor, still in ascending order
      const page = all.slice(-query.limit)
      return toPage(page, all.length > page.length)
    }
    const page = all.slice(0, query.limit)
    return toPage(page, all.length > page.length)
  }

  /**
   * POST /organization/projects/{project_id}/rate_limits/{rate_limit_id}: only the given fields
   * change. Recorded in the audit log (`rate_limit.updated`) in the same transaction.
   */
  async modify(principal: Principal, projectId: string, rateLimitId: string, values: Partial<RateLimitValues>): Promise<ProjectRateLimitObject> {
    const project = await this.requireProject(projectId)
    // an archived project can no longer be updated, its limits included
    if (project.status !== 'active') throw projectArchived(projectId)
    const model = modelOfRateLimitId(rateLimitId)
    if (!model || !this.registry.has(model)) throw notFound('rate limit', rateLimitId)
    const own = await this.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const before = toRateLimitObject(model, effectiveLimits(this.config, model, await repos.rateLimits.get(projectId, model)))
      await repos.rateLimits.upsert(projectId, model, values, nowSeconds())
      const after = await repos.rateLimits.get(projectId, model)
      await recordAudit(tx, principal.orgId, actorOf(principal), {
        type: 'rate_limit.updated',
        project: { id: project.id, name: project.name },
        details: { id: rateLimitId, changes_requested: values, before, after: toRateLimitObject(model, effectiveLimits(this.config, model, after)) },
      })
      return after
    })
    this.projects.invalidate(projectId)
    await this.storage.changes.publish('rate_limits', projectId)
    return toRateLimitObject(model, effectiveLimits(this.config, model, own))
  }

  /** The limits that apply to the project and model right now. */
  async limitsFor(projectId: string, model: string): Promise<Limits> {
    const planned = this.planFor(projectId, model)
    return (planned instanceof Promise ? await planned : planned).limits
  }

  /** A project's limits for a model and its counter keys, made again only when its limits change. */
  private planFor(projectId: string, model: string): Plan | Promise<Plan> {
    const own = this.projects.get(projectId)
    return own instanceof Promise ? own.then((o) => this.plan(projectId, model, o)) : this.plan(projectId, model, own)
  }

  private plan(projectId: string, model: string, own: Map<string, RateLimitValues>): Plan {
    const id = `${projectId}\0${model}`
    const cached = this.plans.get(id)
    if (cached && cached.source === own) return cached
    // the hash tag keeps a request's keys in one Redis Cluster slot
    const base = `{${projectId}:${model}}:`
    const plan: Plan = {
      source: own,
      limits: effectiveLimits(this.config, model, own.get(model)),
      keys: { rpm: base + RPM.suffix, tpm: base + TPM.suffix, rpd: base + RPD.suffix, ipm: base + IPM.suffix, apm: base + AUDIO.suffix },
    }
    if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value!)
    this.plans.set(id, plan)
    return plan
  }

  private models(): string[] {
    return this.registry
      .list()
      .map((card) => card.id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  private async requireProject(projectId: string) {
    const project = await createRepos(this.storage.db).projects.get(projectId)
    if (!project) throw notFound('project', projectId)
    return project
  }

  /**
   * The shared counters could not be reached (Redis down or timing out), as rateLimits.onRedisDown
   * says: `local` counts in this process, so a Redis outage does not become an outage of the API
   * and the backends stay protected (each node allows the whole limit meanwhile); `refuse`
   * answers 503, for deployments where exceeding a limit costs more than refusing.
   */
  private acquireLocally(error: unknown, counters: readonly Counter[]): AcquireResult {
    if (this.config.onRedisDown === 'refuse') throw new StoreUnavailableError('rate limiter', { cause: error })
    this.limiterFailed(error)
    rateLimiterFallbacks.inc()
    return this.local.acquireNow(counters)
  }

  /** Logs the limiter's failure, at most once every 10 s. */
  limiterFailed(error: unknown): void {
    const now = performance.now()
    if (now - this.failOpenLoggedAt >= FAIL_OPEN_LOG_MS) {
      this.failOpenLoggedAt = now
      const mode = this.config.onRedisDown === 'refuse' ? 'limited requests are refused (503)' : 'limits are counted per node'
      apiLog.warn({ err: error }, `rate limiter (Redis) unavailable: ${mode} until it is back`)
    }
  }
}

class Held implements Reservation {
  private settled = false

  constructor(
    private readonly service: LimitsService,
    private readonly limiter: RateLimiter,
    private readonly tokens: Counter,
    readonly headers: Record<string, string>,
  ) {}

  settle(actualTokens: number) {
    if (this.settled) return
    this.settled = true
    const delta = Math.ceil(actualTokens) - this.tokens.cost
    if (delta === 0) return
    const adjusted = this.limiter.adjust({ ...this.tokens, cost: delta })
    if (adjusted) adjusted.catch((error) => this.service.limiterFailed(error))
  }
}

/**
 * OpenAI's six headers (errors.md section 3): the limit, what remains after this request, and the
 * time until the counter is fully replenished, as a Go duration.
 */
function rateLimitHeaders(requests: Counter, r: CounterState, tokens: Counter, t: CounterState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(requests.limit),
    'x-ratelimit-remaining-requests': String(remaining(requests.limit, r.usedAfter)),
    'x-ratelimit-reset-requests': goDuration(r.resetMs),
    'x-ratelimit-limit-tokens': String(tokens.limit),
    'x-ratelimit-remaining-tokens': String(remaining(tokens.limit, t.usedAfter)),
    'x-ratelimit-reset-tokens': goDuration(t.resetMs),
  }
}

function remaining(limit: number, used: number): number {
  const left = Math.floor(limit - used + 1e-9)
  return left > 0 ? left : 0
}
