import { dbPoolGauge } from '../metrics.js'
import { dbLog } from '../logger.js'
import { unavailableOr } from './unavailable.js'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import * as sqliteVec from 'sqlite-vec'
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Dialect as KyselyDialect,
  type Driver,
  type Expression,
  type Kysely,
  type SelectQueryBuilder,
  type SqliteDialectConfig,
} from 'kysely'
import { LocalChangeFeed, PgChangeFeed, RelayedChangeFeed, type ChangeFeed, type RelayChannel } from './change-feed.js'
import { PgVectorIndex } from './vector-index/pgvector.js'
import { SqliteVecIndex } from './vector-index/sqlite-vec.js'
import type { VectorIndex } from './vector-index/vector-index.js'

/** The ONLY module that branches on sqlite | postgres. */
export type Dialect = 'sqlite' | 'postgres'

export type StorageConfig =
  | {
      kind: 'sqlite'
      path: string
      /** How long one statement waits for another process's write lock (default 5000 ms). */
      busyTimeoutMs?: number
    }
  | {
      kind: 'postgres'
      url: string
      poolSize?: number
      /** Tables, and Kysely's migration tables, live in this schema (created if missing). */
      schema?: string
      /** How long taking a connection may wait: connecting, or for a free one (default 5000 ms). */
      connectTimeoutMs?: number
      /**
       * How long one statement may wait for its answer once migrations are done (0 or unset: no
       * limit). A server that keeps the connection but stops answering then fails the request
       * with a 503 instead of holding it; the connection is dropped, as its state is unknown.
       */
      queryTimeoutMs?: number
    }

export function storageConfigFor(databaseUrl: string | undefined, dataDir: string, queryTimeoutMs?: number): StorageConfig {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl))
    return { kind: 'postgres', url: databaseUrl, ...(queryTimeoutMs ? { queryTimeoutMs } : {}) }
  if (databaseUrl && databaseUrl.startsWith('sqlite:'))
    return { kind: 'sqlite', path: databaseUrl.slice(7) }
  return { kind: 'sqlite', path: path.join(dataDir, 'plinth.db') }
}

// The schema name goes into a connection option (`-c search_path=...`) and DDL, where it cannot be
// a bound parameter; a plain lower-case identifier needs no quoting in either place.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema))
    throw new Error(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*`,
    )
  return schema
}

/** Runs compiled statements, in order, in one transaction (Storage.runBatch). */
export type BatchRunner = (db: Kysely<any>, queries: readonly CompiledQuery[]) => Promise<void>

export function createKyselyDialect(config: StorageConfig): {
  dialect: KyselyDialect
  runBatch: BatchRunner
  /** SQLite's connection (file databases: storage.ts moves its checkpoints to a worker) */
  sqlite?: SQLite.Database
  /** Starts the query timeout (PostgreSQL): after migrations, whose index builds may take long. */
  armQueryTimeout?: () => void
} {
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') fs.mkdirSync(path.dirname(config.path), { recursive: true })
    const database = new SQLite(config.path)
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = NORMAL')
    // better-sqlite3 waits synchronously: the event loop stalls while another process holds the
    // write lock. One process per SQLite file is the deployment model, so this only bites a CLI
    // command running next to the server; transactions add an async retry on top (see below).
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(config.busyTimeoutMs ?? 5000))}`)
    database.pragma('foreign_keys = ON')
    loadSqliteVec(database)
    // Integer columns come back as JS numbers (better-sqlite3's default, safeIntegers off):
    // unix seconds and token counts fit in 2^53.
    const cached = withStatementCache(database)
    return { dialect: new ImmediateSqliteDialect({ database: cached }), runBatch: sqliteBatch(cached), sqlite: database }
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    types: { getTypeParser: numericTypeParser },
    // public stays on the path after the schema: extensions such as pgvector live there
    ...(config.schema ? { options: `-c search_path=${checkSchemaName(config.schema)},public` } : {}),
    // a database that does not answer (or a pool with no free connection) fails the request in
    // seconds rather than holding it; keep-alive finds a connection whose peer vanished
    connectionTimeoutMillis: config.connectTimeoutMs ?? 5000,
    keepAlive: true,
  })
  const timeout = { ms: 0 }
  guardPool(pool, timeout)
  const untrack = dbPoolGauge((set) => {
    if (pool.ended) return untrack()
    set({ state: 'total' }, pool.totalCount)
    set({ state: 'idle' }, pool.idleCount)
    set({ state: 'waiting' }, pool.waitingCount)
  })
  const armQueryTimeout = () => {
    timeout.ms = Math.max(0, Math.floor(config.queryTimeoutMs ?? 0))
  }
  return { dialect: new PostgresDialect({ pool }), runBatch: kyselyBatch, armQueryTimeout }
}

/**
 * A database restart or outage must not crash the node. pg reports a connection that dies as an
 * 'error' event: on the pool for an idle client, on the client itself for one checked out (a
 * transaction, the leader's pinned connection), and an EventEmitter without a listener throws it
 * (issue 20: both nodes exited within 80 ms of `pg_ctlcluster restart`). Every client gets a
 * listener the moment it connects; its queries fail and the pool drops it. Queries that fail for
 * want of a connection throw StoreUnavailableError, answered 503.
 */
function guardPool(pool: pg.Pool, timeout: { ms: number }) {
  let loggedAt = -Infinity
  const report = (error: Error) => {
    // once per outage, not once per connection
    if (performance.now() - loggedAt < 10_000) return
    loggedAt = performance.now()
    dbLog.warn({ err: error }, 'database connection lost; reconnecting on demand')
  }
  pool.on('error', report)
  pool.on('connect', (client) => {
    client.on('error', report)
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    // Kysely calls query(text, values) for its promise; the callback and cursor forms pass through
    // untouched. pg's own query_timeout rejects the promise but leaves the connection waiting for
    // the late answer, so a timed-out connection is destroyed: the pool then drops it.
    client.query = ((...args: unknown[]) => {
      const timed = timeout.ms > 0 && typeof args[0] === 'string' && args.length <= 2
      const result = timed ? query({ text: args[0], values: args[1], query_timeout: timeout.ms }) : query(...args)
      if (!(result instanceof Promise)) return result
      return result.catch((error: unknown) => {
        if (timed && error instanceof Error && error.message === 'Query read timeout') {
          // end() marks the client ending at once, so the pool discards it on release rather
          // than handing it out again; destroy() does not wait for a server that is not answering
          client.end().catch(() => undefined)
          ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
          rethrowUnavailable(new Error(`Query read timeout: the database did not answer within ${timeout.ms} ms`, { cause: error }))
        }
        return rethrowUnavailable(error)
      })
    }) as typeof client.query
  })
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>
  pool.connect = ((callback?: unknown) => {
    if (callback) return (connect as (cb: unknown) => void)(callback)
    return connect().catch(rethrowUnavailable)
  }) as typeof pool.connect
}

function rethrowUnavailable(error: unknown): never {
  throw unavailableOr(error, 'database')
}

/**
 * sqlite-vec's vector functions and vec0 tables. A platform it ships no binary for leaves SQLite
 * without them: Plinth still starts, and the vector index says what is missing (vector-index/).
 */
function loadSqliteVec(database: SQLite.Database) {
  try {
    sqliteVec.load(database)
  } catch {
    // reported by SqliteVecIndex.prepare, which finds vec_version() missing
  }
}

/** The vector index of a dialect: sqlite-vec + FTS5, or pgvector + full-text search. */
export function createVectorIndex(dialect: Dialect): VectorIndex {
  return dialect === 'postgres' ? new PgVectorIndex() : new SqliteVecIndex()
}

/** Each statement through Kysely, in one transaction. */
const kyselyBatch: BatchRunner = (db, queries) =>
  db.transaction().execute(async (trx) => {
    for (const query of queries) await trx.executeQuery(query)
  })

/**
 * On SQLite the whole batch runs in one synchronous better-sqlite3 transaction (BEGIN IMMEDIATE),
 * holding Kysely's single connection meanwhile so nothing of Kysely's interleaves. Going through
 * Kysely's async driver cost four awaited round trips (begin, statements, commit) per usage flush.
 */
function sqliteBatch(database: SQLite.Database): BatchRunner {
  const run = database.transaction((queries: readonly CompiledQuery[]) => {
    for (const query of queries) database.prepare(query.sql).run(query.parameters as unknown[])
  })
  return async (db, queries) => {
    await db.connection().execute(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          run.immediate(queries)
          return
        } catch (error) {
          // as beginTransaction below: a busy lock (another process) is retried after a pause
          if (!isSqliteBusy(error) || attempt >= BEGIN_ATTEMPTS) throw error
          await sleep(10 * 2 ** attempt + Math.random() * 10)
        }
      }
    })
  }
}

/**
 * Kysely prepares every query anew; on better-sqlite3 that prepare was the largest single cost of
 * an authenticated request. Queries come from a small set of shapes, so caching statements by SQL
 * text makes preparing nearly free.
 */
function withStatementCache(database: SQLite.Database, max = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>()
  const prepare = database.prepare.bind(database)
  const cachedPrepare = (text: string) => {
    let statement = cache.get(text)
    if (!statement) {
      statement = prepare(text)
      if (cache.size >= max) cache.delete(cache.keys().next().value!)
      cache.set(text, statement)
    }
    return statement
  }
  // native methods must see the real Database as `this`, not the proxy; bound once each, since
  // the driver looks them up on every query
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(database, {
    get(target, property) {
      if (property === 'prepare') return cachedPrepare
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let fn = bound.get(property)
      if (!fn) bound.set(property, (fn = value.bind(target)))
      return fn
    },
  })
}

const PG_INT8 = 20
const PG_NUMERIC = 1700

/**
 * int8 (our bigint columns, count(*)) and numeric (sum() of bigints) arrive as strings from pg;
 * SQLite gives numbers. Parse them as JS numbers so rows look the same on both dialects: every
 * value we store (unix seconds, token counts) fits in 2^53. Set per pool, not on the global
 * `pg.types`, so other pg users in the process keep the defaults.
 */
function numericTypeParser(oid: number, format?: string): (value: string) => unknown {
  if (format !== 'binary' && (oid === PG_INT8 || oid === PG_NUMERIC)) return Number
  return pg.types.getTypeParser(oid, format as any) as (value: string) => unknown
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE instead of Kysely's plain (deferred) BEGIN.
 *
 * A deferred transaction takes the write lock at its first write. If another connection committed
 * after this one's first read, the upgrade fails at once with SQLITE_BUSY(_SNAPSHOT), whatever
 * busy_timeout says, and the work done so far is lost. BEGIN IMMEDIATE takes the write lock up
 * front, waiting up to busy_timeout, so a transaction that started never fails for lock reasons.
 *
 * Inside one process Kysely already serializes everything: the driver has one connection behind a
 * mutex, so a transaction has the database to itself until it ends. The lock only matters between
 * processes (the CLI next to the server, or two servers on one file).
 */
class ImmediateSqliteDialect extends SqliteDialect {
  // SqliteDialect keeps its config private; keep our own reference for the driver.
  readonly #config: SqliteDialectConfig

  constructor(config: SqliteDialectConfig) {
    super(config)
    this.#config = config
  }

  createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
  }
}

const BEGIN_ATTEMPTS = 5

class ImmediateSqliteDriver extends SqliteDriver {
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // busy_timeout already waited (synchronously) for the lock; if it is still held, back off
    // asynchronously so the holder, possibly in this same event loop's other work, can finish.
    // Only BEGIN is retried: nothing of the caller's function has run yet, so it is always safe.
    for (let attempt = 1; ; attempt++) {
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'))
        return
      } catch (error) {
        if (!isSqliteBusy(error) || attempt >= BEGIN_ATTEMPTS) throw error
        await sleep(10 * 2 ** attempt + Math.random() * 10)
      }
    }
  }
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/**
 * The column type for ids and other keys (`id`, `*_id`). Keyset pagination compares and sorts ids
 * as strings and relies on byte order: the id alphabet mixes cases (`...Z` < `a...`), which a
 * linguistic collation such as PostgreSQL's usual en_US.UTF-8 orders differently (`a` < `B`), so
 * pages would skip and repeat rows. SQLite compares text bytewise already; PostgreSQL needs the
 * "C" collation on the column (which its indexes then inherit).
 */
export function keyColumnType(dialect: Dialect): 'text' | Expression<unknown> {
  return dialect === 'postgres' ? sql`text collate "C"` : 'text'
}

/** Creates the schema a test suite or deployment asks for (PostgreSQL only). */
export async function ensureSchema(config: StorageConfig) {
  if (config.kind !== 'postgres' || !config.schema) return
  const client = new pg.Client({ connectionString: config.url, connectionTimeoutMillis: config.connectTimeoutMs ?? 5000 })
  // a connection cut while idle is an 'error' event: without a listener it would end the process
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${checkSchemaName(config.schema)}`)
  } catch (error) {
    // two nodes starting at once: IF NOT EXISTS still races in the catalog (unique_violation)
    const code = (error as { code?: string }).code
    if (code !== '23505' && code !== '42P06') throw error
  } finally {
    await client.end()
  }
}

/**
 * Where Kysely's Migrator keeps its bookkeeping tables. Without a schema it looks for
 * `kysely_migration` in *every* schema it can see and, finding another suite's or tenant's, skips
 * creating its own and then fails on the missing table. So on PostgreSQL name the schema the
 * tables go to: the configured one, or the connection's current schema.
 */
export async function migrationTableSchema(
  db: Kysely<any>,
  config: StorageConfig,
): Promise<string | undefined> {
  if (config.kind !== 'postgres') return undefined
  if (config.schema) return config.schema
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    db,
  )
  return rows[0]?.schema ?? undefined
}

/**
 * Serializes a critical section across nodes until the current transaction ends. PostgreSQL: a
 * transaction-scoped advisory lock. SQLite: transactions already begin IMMEDIATE (one writer).
 */
export async function lockInTransaction(db: Kysely<any>, dialect: Dialect, key: number): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${key})`.execute(db)
}

/**
 * The dialect behind a Kysely handle (the pool or a transaction). Repositories are made from a
 * bare handle (`createRepos(tx.db)`), so the few that need a dialect-specific statement ask here.
 */
export function dialectOf(db: Kysely<any>): Dialect {
  // getExecutor() is marked internal, but it is how Kysely's own plugins reach the adapter
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite'
}

/**
 * Claims rows of `table` in one statement and returns them (in no particular order): `candidates`
 * selects the ids to take (filtered, ordered, limited), `set` marks them taken.
 *
 * PostgreSQL: the candidates are locked `FOR UPDATE SKIP LOCKED`, so claimers on several nodes
 * take different rows without waiting for each other. They sit in a MATERIALIZED CTE so the LIMIT
 * applies once: under `id IN (subquery)` the planner may re-run a LIMIT subquery and take more.
 *
 * SQLite has no row locks and needs none: one statement is atomic, and a write statement takes
 * the write lock before it reads its candidates, so two claimers never see the same row. That is
 * the guarantee BEGIN IMMEDIATE gives, without its cost: better-sqlite3 runs a statement
 * synchronously, so the lock is never held across an await (a transaction's is, and another
 * connection in the same process would then block the event loop for busy_timeout).
 */
export function claimRows<Row>(
  db: Kysely<any>,
  table: string,
  candidates: SelectQueryBuilder<any, any, { id: string }>,
  set: Record<string, unknown>,
): Promise<Row[]> {
  if (dialectOf(db) === 'postgres') {
    return db
      .with(
        (cte) => cte('claimed').materialized(),
        () => candidates.forUpdate().skipLocked(),
      )
      .updateTable(table)
      .from('claimed')
      .set(set)
      .whereRef(`${table}.id`, '=', 'claimed.id')
      .returningAll(table)
      .execute() as Promise<Row[]>
  }
  return db
    .updateTable(table)
    .set(set)
    .where('id', 'in', candidates)
    .returningAll()
    .execute() as Promise<Row[]>
}

/** What `withLeaderLock` hands the leader while it holds the lock. */
export type LeaderSession = {
  /** false once the lock may have been lost (PostgreSQL: the pinned connection failed) */
  alive(): Promise<boolean>
}

/**
 * Runs `fn` while holding the cluster-wide lock `key`; if another node holds it, returns at once
 * without running fn.
 *
 * PostgreSQL: a session advisory lock on a connection pinned for fn's whole run. The lock dies
 * with its connection, so a crashed leader frees it; `alive()` pings that connection. The pinned
 * connection is one fewer in the pool for as long as this node leads.
 *
 * SQLite: one process per database file is the deployment model, so that process always leads.
 */
export async function withLeaderLock<T>(
  db: Kysely<any>,
  dialect: Dialect,
  key: number,
  fn: (session: LeaderSession) => Promise<T>,
): Promise<{ acquired: true; value: T } | { acquired: false }> {
  if (dialect === 'sqlite') return { acquired: true, value: await fn({ alive: async () => true }) }
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{
      acquired: boolean
    }>`select pg_try_advisory_lock(${key}) as acquired`.execute(conn)
    if (!rows[0]?.acquired) return { acquired: false as const }
    try {
      const alive = () => sql`select 1`.execute(conn).then(
        () => true,
        () => false,
      )
      return { acquired: true as const, value: await fn({ alive }) }
    } finally {
      // a broken connection took the lock with it; nothing to release then
      await sql`select pg_advisory_unlock(${key})`.execute(conn).catch(() => undefined)
    }
  })
}

/**
 * How caches hear of changes (change-feed.ts): PostgreSQL's LISTEN/NOTIFY, which every node
 * sharing the database hears; SQLite has one node, whose changes are delivered in-process, and
 * relayed through the primary (`relay`, the worker's IPC channel) when that node is N workers.
 */
export async function createChangeFeed(config: StorageConfig, db: Kysely<any>, relay?: RelayChannel): Promise<ChangeFeed> {
  if (config.kind === 'sqlite') return relay ? new RelayedChangeFeed(relay) : new LocalChangeFeed()
  const feed = new PgChangeFeed(config.url, config.schema ? checkSchemaName(config.schema) : '', db)
  // listening before the first cache fills; a failure here is retried in the background
  await feed.ready
  return feed
}

/**
 * Triggers that keep a thread's two message counters (migration 0018): `messages_added` counts
 * the messages ever inserted into it; `messages_changed` counts the deletions and the rewrites of
 * a finished message's role or content (an in_progress message, whose content still grows, is
 * left out). A node's prompt cache (domain/assistants/prompt-cache.ts) compares them with the
 * counters it saw: in a trigger they follow every writer, on every node, in the writer's own
 * transaction, including SQL that bypasses the repositories. PostgreSQL counts inserts and
 * deletes once per statement: a row trigger there updates the thread's row once per message, and
 * each update is a new row version, so 10,000 messages in one statement took 1.8 s instead of 0.1.
 */
export function messageCounterTriggers(dialect: Dialect): { up: string[]; down: string[] } {
  const rewritten = `OLD.status <> 'in_progress' AND (NEW.content IS DISTINCT FROM OLD.content OR NEW.role IS DISTINCT FROM OLD.role)`
  const names = ['messages_added', 'messages_deleted', 'messages_rewritten']
  if (dialect === 'sqlite') {
    const bump = (column: string, row: string) => `UPDATE threads SET ${column} = ${column} + 1 WHERE id = ${row}.thread_id`
    return {
      up: [
        `CREATE TRIGGER messages_added AFTER INSERT ON messages BEGIN ${bump('messages_added', 'NEW')}; END`,
        `CREATE TRIGGER messages_deleted AFTER DELETE ON messages BEGIN ${bump('messages_changed', 'OLD')}; END`,
        `CREATE TRIGGER messages_rewritten AFTER UPDATE OF content, role ON messages WHEN ${rewritten.replaceAll('IS DISTINCT FROM', 'IS NOT')} BEGIN ${bump('messages_changed', 'OLD')}; END`,
      ],
      down: names.map((name) => `DROP TRIGGER IF EXISTS ${name}`),
    }
  }
  const perThread = (column: string, rows: string) => `UPDATE threads t SET ${column} = t.${column} + c.n
    FROM (SELECT thread_id, count(*) AS n FROM ${rows} GROUP BY thread_id) c WHERE t.id = c.thread_id`
  const fn = (name: string, body: string) =>
    `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$`
  return {
    up: [
      fn('messages_count_added', perThread('messages_added', 'added_rows')),
      fn('messages_count_deleted', perThread('messages_changed', 'deleted_rows')),
      fn('messages_count_rewritten', 'UPDATE threads SET messages_changed = messages_changed + 1 WHERE id = OLD.thread_id'),
      `CREATE TRIGGER messages_added AFTER INSERT ON messages REFERENCING NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_count_added()`,
      `CREATE TRIGGER messages_deleted AFTER DELETE ON messages REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_count_deleted()`,
      `CREATE TRIGGER messages_rewritten AFTER UPDATE OF content, role ON messages FOR EACH ROW WHEN (${rewritten}) EXECUTE FUNCTION messages_count_rewritten()`,
    ],
    down: [
      ...names.map((name) => `DROP TRIGGER IF EXISTS ${name} ON messages`),
      ...['messages_count_added', 'messages_count_deleted', 'messages_count_rewritten'].map((name) => `DROP FUNCTION IF EXISTS ${name}()`),
    ],
  }
}
