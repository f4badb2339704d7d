import { randomBytes } from 'node:crypto'
import net from 'node:net'
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

describePg('a PostgreSQL server that stops answering', () => {
  const schema = withPgSchema('hung')
  let storage: Storage
  let proxy: net.Server
  let frozen = false
  const sockets = new Set<net.Socket>()

  beforeAll(async () => {
    // a TCP relay to the real server that can stop passing bytes: the connections stay open, as
    // with a hung server or a network path that drops packets
    const target = new URL(schema.url)
    proxy = net.createServer((client) => {
      const server = net.connect(Number(target.port || 5432), target.hostname)
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        sockets.add(from)
        from.on('data', (chunk: Buffer) => {
          if (!frozen) to.write(chunk)
        })
        from.on('close', () => to.destroy())
        from.on('error', () => to.destroy())
      }
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const url = new URL(schema.url)
    url.hostname = '127.0.0.1'
    url.port = String((proxy.address() as net.AddressInfo).port)
    storage = await openStorage({ ...schema.config, url: url.toString(), queryTimeoutMs: 400 })
  })
  afterAll(async () => {
    frozen = false
    await storage?.close()
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => proxy?.close(resolve))
    await schema.drop()
  })

  it('fails the statement after queryTimeoutMs with StoreUnavailableError, then recovers on new connections', async () => {
    expect((await sql<{ one: number }>`select 1 as one`.execute(storage.db)).rows).toEqual([{ one: 1 }])
    frozen = true
    const started = performance.now()
    const error = await sql`select 1`.execute(storage.db).catch((e: unknown) => e)
    const waited = performance.now() - started
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(String(((error as Error).cause as Error).message)).toMatch(/did not answer within 400 ms/)
    expect(waited).toBeGreaterThanOrEqual(350)
    expect(waited).toBeLessThan(3000)
    frozen = false
    // the timed-out connection was dropped: the next statement runs on a fresh one
    expect((await sql<{ one: number }>`select 1 as one`.execute(storage.db)).rows).toEqual([{ one: 1 }])
  })

  it('a statement slower than the timeout is cut the same way', async () => {
    const error = await sql`select pg_sleep(2)`.execute(storage.db).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((await sql<{ one: number }>`select 1 as one`.execute(storage.db)).rows).toEqual([{ one: 1 }])
  })
})
