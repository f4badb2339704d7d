import fs from 'node:fs'
import { sqliteFileGauge } from '../metrics.js'
import { Kysely, Migrator, type CompiledQuery, type Transaction } from 'kysely'
import type { Database } from './tables.js'
import type { ChangeFeed, RelayChannel } from './change-feed.js'
import {
  createChangeFeed,
  createKyselyDialect,
  ensureSchema,
  type BatchRunner,
  migrationTableSchema,
  type Dialect,
  type StorageConfig,
} from './dialect.js'
import { migrationProvider } from './migrations/index.js'
import { checkpointInWorker } from './sqlite-checkpoints.js'
import { tracing } from '../tracing/tracing.js'

/** The database handle every repository works through. */
export interface Storage {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  /** Tells every node's caches what changed (change-feed.ts); shared by transaction-bound copies. */
  readonly changes: ChangeFeed
  /**
   * Runs fn in one transaction and commits, or rolls back if fn throws. fn gets a Storage bound to
   * the transaction; calling `transaction` on that one runs inside the same transaction (no
   * savepoint), so a service can compose others that open their own. On SQLite it begins with
   * BEGIN IMMEDIATE and retries a busy BEGIN (see dialect.ts).
   */
  transaction<T>(fn: (tx: Storage) => Promise<T>): Promise<T>
  /**
   * Runs compiled statements, in order, in one transaction: the hot write path (usage records),
   * which on SQLite runs as one synchronous step instead of a Kysely transaction's round trips.
   */
  runBatch(queries: readonly CompiledQuery[]): Promise<void>
  close(): Promise<void>
}

class KyselyStorage implements Storage {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly changes: ChangeFeed,
    private readonly batchRunner: BatchRunner,
    private readonly inTransaction = false,
    private readonly beforeClose: () => Promise<void> = async () => {},
  ) {}

  transaction<T>(fn: (tx: Storage) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this)
    return this.db
      .transaction()
      .execute((trx: Transaction<Database>) => fn(new KyselyStorage(trx, this.dialect, this.changes, this.batchRunner, true)))
  }

  async runBatch(queries: readonly CompiledQuery[]): Promise<void> {
    if (!queries.length) return
    if (!this.inTransaction) return this.batchRunner(this.db, queries)
    // already inside a transaction: its statements join it
    for (const query of queries) await this.db.executeQuery(query)
  }

  async close() {
    // the transaction's owner closes the pool, not code handed the transaction
    if (this.inTransaction) throw new Error('close() called on a transaction-bound Storage')
    await this.beforeClose()
    await this.db.destroy()
  }
}

/** `changeRelay`: a cluster worker's IPC channel, which carries the change feed on SQLite. */
export async function openStorage(config: StorageConfig, options: { changeRelay?: RelayChannel } = {}): Promise<Storage> {
  await ensureSchema(config)
  const { dialect, runBatch, sqlite, armQueryTimeout } = createKyselyDialect(config)
  // with tracing on, each statement of a traced request is a span (tracing/query-spans.ts)
  const db = new Kysely<Database>({ dialect, log: tracing?.queryLog(config.kind) })
  try {
    await migrate(db, config)
  } catch (error) {
    await db.destroy()
    throw error
  }
  armQueryTimeout?.()
  const file = config.kind === 'sqlite' && config.path !== ':memory:' ? config.path : undefined
  const stopCheckpoints = sqlite && file ? checkpointInWorker(sqlite, file) : undefined
  const untrack = file ? trackSqliteFiles(file) : undefined
  const changes = await createChangeFeed(config, db, options.changeRelay)
  const beforeClose = async () => {
    await changes.close()
    untrack?.()
    await stopCheckpoints?.()
  }
  return new KyselyStorage(db, config.kind, changes, runBatch, false, beforeClose)
}

/** The database file's and its WAL's sizes, for the metrics (a WAL that only grows shows here). */
function trackSqliteFiles(file: string) {
  return sqliteFileGauge((set) => {
    set({ file: 'database' }, fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0)
    set({ file: 'wal' }, fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)
  })
}

async function migrate(db: Kysely<Database>, config: StorageConfig) {
  const migrator = new Migrator({
    db,
    provider: migrationProvider({ dialect: config.kind }),
    migrationTableSchema: await migrationTableSchema(db, config),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (!error) return
  const failed = results?.find((r) => r.status === 'Error')
  const where = failed ? ` ${failed.migrationName}` : ''
  throw new Error(
    `database migration${where} failed: ${(error as Error)?.message ?? String(error)}`,
    {
      cause: error,
    },
  )
}
