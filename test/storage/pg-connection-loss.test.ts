import { randomBytes } from 'node:crypto'
import { Kysely, sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/errors.js'
import { createKyselyDialect, ensureSchema, withLeaderLock } from '../../src/storage/dialect.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { describePg, pgQuery, pgTestUrl, withPgSchema } from '../helpers/pg.js'

// Issue 20: a PostgreSQL restart ended every node on an unhandled 'error' event from the pg pool.
// Here the server cuts this suite's connections (pg_terminate_backend, what a restart does to
// each session: "terminating connection due to administrator command") while some are idle in
// the pool, one is pinned by the leader lock and one runs a statement. The process must not see
// an unhandled error (vitest fails the run on one), the statement fails as StoreUnavailableError,
// and the next queries work on new connections.

describePg('PostgreSQL connections cut under the pool', () => {
  const app = `plinth_cut_${randomBytes(4).toString('hex')}`
  const schema = withPgSchema('conn-loss')
  let storage: Storage

  beforeAll(async () => {
    const url = new URL(schema.url)
    url.searchParams.set('application_name', app)
    storage = await openStorage({ ...schema.config, url: url.toString() })
  })
  afterAll(async () => {
    await storage?.close()
    await schema.drop()
  })

  const terminate = () =>
    pgQuery(pgTestUrl()!, 'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])

  it('idle, pinned and busy connections die; the node carries on', async () => {
    // fill the pool with idle connections
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(storage.db)))
    let leaderAlive: boolean | undefined
    const leader = withLeaderLock(storage.db, 'postgres', 920_001, async (session) => {
      await new Promise((r) => setTimeout(r, 300))
      leaderAlive = await session.alive()
    })
    const busy = sql`select pg_sleep(5)`.execute(storage.db).then(
      () => undefined,
      (error: unknown) => error,
    )
    await new Promise((r) => setTimeout(r, 100))
    const [{ n }] = await terminate()
    expect(n).toBeGreaterThanOrEqual(2)

    const started = performance.now()
    const error = await busy
    expect(performance.now() - started).toBeLessThan(2000)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as StoreUnavailableError).store).toBe('database')

    expect((await leader).acquired).toBe(true)
    expect(leaderAlive).toBe(false)
    // new connections replace the dead ones
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(storage.db)
    expect(rows).toEqual([{ one: 1 }])
    // and the leader lock can be taken again
    expect((await withLeaderLock(storage.db, 'postgres', 920_001, async () => 'led')).acquired).toBe(true)
  })

  it('a connection cut inside a transaction fails the transaction, not the process', async () => {
    const outcome = await storage
      .transaction(async (tx) => {
        await sql`select 1`.execute(tx.db)
        await terminate()
        await sql`select pg_sleep(0.2)`.execute(tx.db)
      })
      .then(
        () => 'committed',
        (error: unknown) => error,
      )
    expect(outcome).toBeInstanceOf(StoreUnavailableError)
    expect((await sql<{ one: number }>`select 1 as one`.execute(storage.db)).rows).toEqual([{ one: 1 }])
  })
})

it('a database that is not there fails queries at once with StoreUnavailableError', async () => {
  // port 1: nothing listens, the connection is refused
  const { dialect } = createKyselyDialect({ kind: 'postgres', url: 'postgres://plinth:plinth@127.0.0.1:1/none' })
  const db = new Kysely<any>({ dialect })
  try {
    const started = performance.now()
    const error = await sql`select 1`.execute(db).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(await ensureSchema({ kind: 'postgres', url: 'postgres://x:y@127.0.0.1:1/none', schema: 's' }).catch((e: unknown) => (e as NodeJS.ErrnoException).code)).toBe('ECONNREFUSED')
  } finally {
    await db.destroy()
  }
})
