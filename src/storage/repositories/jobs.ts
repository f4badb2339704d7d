import { sql, type Expression, type Kysely, type Selectable } from 'kysely'
import { claimRows } from '../dialect.js'
import { newId, nowSeconds } from '../ids.js'
import type { Database, JobStatus, JobsTable } from '../tables.js'

export type JobRow = Selectable<JobsTable>
export type { JobStatus }

/** What a claim needs to know of each kind it may take (the runner reads it from its catalog). */
export type ClaimKind = { kind: string; leaseMs: number; maxAttempts: number }

export type ReclaimedJob = Pick<JobRow, 'id' | 'kind' | 'status' | 'lease_owner'>

export type EnqueueOptions = {
  /** not before this time (unix ms or a Date); default now */
  runAt?: number | Date
  /** overrides the kind's default from the job catalog */
  maxAttempts?: number
  /** an id of your own: enqueueing an id that exists is a no-op, which makes enqueue idempotent */
  id?: string
}

/** States in which a runner holds the job's lease. */
const LEASED: JobStatus[] = ['running', 'cancelling']
const FINISHED: JobStatus[] = ['succeeded', 'failed', 'cancelled']
const ERROR_MAX_CHARS = 4000

/**
 * The job queue's queries (semantics in docs/jobs.md). Every write made on behalf of a runner
 * names the runner (`owner`) and applies only while it still holds the lease, so a runner that
 * lost its job to lease expiry cannot overwrite what the next one does. Times are unix ms.
 */
export class JobsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds a queued job. Made from a transaction's handle (`createRepos(tx.db)`), it commits or rolls
   * back with the object it serves. Returns the job id.
   */
  /**
   * Jobs waiting or running, by kind and status, and the oldest one's start in unix seconds (a
   * queued job's due time, a running job's creation): the queue metrics. Queued jobs not yet due
   * (retries backing off, scheduled runs) are left out: they are not late.
   */
  async queueStats(nowMs = Date.now()): Promise<{ kind: string; status: string; count: number; oldest: number }[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select((eb) => [
        'kind',
        'status',
        eb.fn.countAll<number>().as('count'),
        eb.fn.min<number>(sql<number>`case when status = 'queued' then run_at / 1000 else created_at end`).as('oldest'),
      ])
      .where((eb) => eb.or([eb('status', 'in', ['running', 'cancelling']), eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', nowMs)])]))
      .groupBy(['kind', 'status'])
      .execute()
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.count), oldest: Number(r.oldest) }))
  }

  /** The newest jobs, of every kind and status (the dashboard's jobs table). */
  async recent(limit: number): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()
  }

  async enqueue(kind: string, payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    const id = options.id ?? newId('job_')
    const now = nowSeconds()
    const runAt = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt
    await this.db
      .insertInto('jobs')
      .values({
        id,
        kind,
        payload: JSON.stringify(payload ?? null),
        status: 'queued',
        run_at: runAt ?? Date.now(),
        attempts: 0,
        max_attempts: options.maxAttempts ?? null,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        progress: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
    return id
  }

  get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /**
   * Takes up to `limit` due jobs of the given kinds for `owner`, oldest first: each becomes
   * running with a lease of its kind's leaseMs, and its attempt is counted now (so a crash mid-run
   * uses up an attempt too). A job's max_attempts, if unset, becomes its kind's default.
   */
  async claim(
    owner: string,
    kinds: ClaimKind[],
    limit: number,
    now = Date.now(),
  ): Promise<JobRow[]> {
    if (kinds.length === 0 || limit <= 0) return []
    const candidates = this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', 'queued')
      .where('run_at', '<=', now)
      .where(
        'kind',
        'in',
        kinds.map((k) => k.kind),
      )
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit)
    const rows = await claimRows<JobRow>(this.db, 'jobs', candidates, {
      status: 'running',
      lease_owner: owner,
      lease_expires_at: sql`cast(${now} as bigint) + ${byKind(kinds, 'leaseMs')}`,
      attempts: sql`attempts + 1`,
      max_attempts: sql`coalesce(max_attempts, ${byKind(kinds, 'maxAttempts')})`,
      updated_at: Math.floor(now / 1000),
    })
    return rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /**
   * Extends the lease if `owner` still holds it. Returns the job's status ('running', or
   * 'cancelling' once a cancel was requested), or undefined if the lease is lost.
   */
  async heartbeat(
    id: string,
    owner: string,
    leaseMs: number,
    now = Date.now(),
  ): Promise<JobStatus | undefined> {
    const row = await this.leased(id, owner)
      .set({ lease_expires_at: now + leaseMs })
      .returning('status')
      .executeTakeFirst()
    return row?.status
  }

  /** Saves the handler's progress (any JSON) if `owner` still holds the lease. */
  async setProgress(
    id: string,
    owner: string,
    progress: unknown,
    now = Date.now(),
  ): Promise<boolean> {
    const result = await this.leased(id, owner)
      .set({ progress: JSON.stringify(progress ?? null), updated_at: Math.floor(now / 1000) })
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** The handler returned: succeeded (even if a cancel came in meanwhile: the work is done). */
  complete(id: string, owner: string, now = Date.now()): Promise<boolean> {
    return this.finish(id, owner, 'succeeded', now)
  }

  /** The handler stopped on a cancel request. */
  markCancelled(id: string, owner: string, now = Date.now()): Promise<boolean> {
    return this.finish(id, owner, 'cancelled', now)
  }

  /**
   * The handler failed. With `retryInMs` and attempts left, the job is queued again that much
   * later; otherwise (no attempts left, or `retryInMs: null` for an error retrying cannot fix) it
   * is failed, or cancelled if a cancel was requested meanwhile. Returns the new status, or
   * undefined if `owner` had lost the lease.
   */
  async fail(
    id: string,
    owner: string,
    error: string,
    retryInMs: number | null,
    now = Date.now(),
  ): Promise<JobStatus | undefined> {
    // queued again only while running with attempts left; a job cancelled meanwhile ends cancelled
    const requeue =
      retryInMs === null
        ? sql<boolean>`false`
        : sql<boolean>`(status = 'running' and attempts < max_attempts)`
    const row = await this.leased(id, owner)
      .set({
        status: sql<JobStatus>`case
          when ${requeue} then 'queued'
          when status = 'cancelling' then 'cancelled'
          else 'failed' end`,
        run_at: sql<number>`case
          when ${requeue} then cast(${now + (retryInMs ?? 0)} as bigint)
          else run_at end`,
        lease_owner: sql<string | null>`case when ${requeue} then null else lease_owner end`,
        lease_expires_at: null,
        last_error: error.slice(0, ERROR_MAX_CHARS),
        updated_at: Math.floor(now / 1000),
      })
      .returning('status')
      .executeTakeFirst()
    return row?.status
  }

  /**
   * Asks for a job to stop: a queued job is cancelled at once; a running one becomes 'cancelling'
   * and its runner aborts the handler's signal at the next heartbeat. Returns the status after
   * the request (unchanged for a job already ended), or undefined for an unknown id.
   */
  async requestCancel(id: string, now = Date.now()): Promise<JobStatus | undefined> {
    const row = await this.db
      .updateTable('jobs')
      .set({
        status: sql<JobStatus>`case when status = 'queued' then 'cancelled' else 'cancelling' end`,
        updated_at: Math.floor(now / 1000),
      })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returning('status')
      .executeTakeFirst()
    return row?.status ?? (await this.get(id))?.status
  }

  /**
   * Jobs whose runner stopped heartbeating (crashed, hung, cut off from the database): a running
   * one is queued again at once if it has attempts left (its attempt was counted at claim), or
   * failed; a cancelling one is cancelled. Safe to run on every node at once.
   */
  reclaimExpired(now = Date.now()): Promise<ReclaimedJob[]> {
    // max_attempts is set by every claim; were it missing, fail rather than loop
    const requeue = sql<boolean>`(status = 'running' and attempts < coalesce(max_attempts, 0))`
    return this.db
      .updateTable('jobs')
      .set({
        status: sql<JobStatus>`case
          when status = 'cancelling' then 'cancelled'
          when ${requeue} then 'queued'
          else 'failed' end`,
        run_at: sql<number>`case when ${requeue} then cast(${now} as bigint) else run_at end`,
        lease_owner: sql<string | null>`case when ${requeue} then null else lease_owner end`,
        lease_expires_at: null,
        last_error: sql<string | null>`case
          when status = 'cancelling' then last_error
          else 'lease expired: runner ' || coalesce(lease_owner, '?')
            || ' stopped heartbeating' end`,
        updated_at: Math.floor(now / 1000),
      })
      .where('status', 'in', LEASED)
      .where('lease_expires_at', '<', now)
      .returning(['id', 'kind', 'status', 'lease_owner'])
      .execute()
  }

  /** Deletes ended jobs last changed before `beforeSeconds` (unix seconds); returns how many. */
  async deleteFinished(beforeSeconds: number): Promise<number> {
    const result = await this.db
      .deleteFrom('jobs')
      .where('status', 'in', FINISHED)
      .where('updated_at', '<', beforeSeconds)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  private leased(id: string, owner: string) {
    return this.db
      .updateTable('jobs')
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', 'in', LEASED)
  }

  private async finish(
    id: string,
    owner: string,
    status: JobStatus,
    now: number,
  ): Promise<boolean> {
    const result = await this.leased(id, owner)
      .set({ status, lease_expires_at: null, updated_at: Math.floor(now / 1000) })
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }
}

/** `case kind when 'a' then 1 when 'b' then 2 end`, as a bigint, for per-kind claim settings. */
function byKind(kinds: ClaimKind[], field: 'leaseMs' | 'maxAttempts'): Expression<number> {
  const whens = kinds.map(
    (k) => sql`when ${k.kind} then cast(${Math.floor(k[field])} as bigint)`,
  )
  return sql<number>`(case kind ${sql.join(whens, sql` `)} end)`
}
