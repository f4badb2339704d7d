import { Kysely, Migrator, type Transaction } from 'kysely'
import type { Database } from './tables.js'
import { createKyselyDialect, ensureSchema, type Dialect, type StorageConfig } from './dialect.js'
import { migrationProvider } from './migrations/index.js'

/** The database handle every repository works through. */
export interface Storage {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  /** Runs fn in one transaction; fn gets a Storage bound to it. */
  transaction<T>(fn: (tx: Storage) => Promise<T>): Promise<T>
  close(): Promise<void>
}

class KyselyStorage implements Storage {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly inTransaction = false,
  ) {}

  transaction<T>(fn: (tx: Storage) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this)
    return this.db.transaction().execute((trx: Transaction<Database>) => fn(new KyselyStorage(trx, this.dialect, true)))
  }

  async close() {
    await this.db.destroy()
  }
}

export async function openStorage(config: StorageConfig): Promise<Storage> {
  await ensureSchema(config)
  const { dialect } = createKyselyDialect(config)
  const db = new Kysely<Database>({ dialect })
  const migrator = new Migrator({ db, provider: migrationProvider })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    await db.destroy()
    const failed = results?.find((r) => r.status === 'Error')
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`)
  }
  return new KyselyStorage(db, config.kind)
}
