import { EventEmitter } from 'node:events'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalChangeFeed, PgChangeFeed, RelayedChangeFeed, type RelayedChange } from '../../src/storage/change-feed.js'
import { describePg, pgQuery, pgTestUrl } from '../helpers/pg.js'

// The change feed (issue 20): what one node publishes reaches every node's caches; a dropped
// listening connection comes back by itself, and every cache is cleared then, since what was
// published meanwhile was not heard.

describe('LocalChangeFeed (one node)', () => {
  it('delivers to the topic\'s listeners before publish returns, until they unsubscribe', async () => {
    const feed = new LocalChangeFeed()
    const heard: (string | null)[] = []
    const stop = feed.subscribe('keys', (key) => heard.push(key))
    feed.subscribe('rate_limits', () => heard.push('wrong topic'))
    const published = feed.publish('keys', 'k1')
    expect(heard).toEqual(['k1'])
    await published
    await feed.publish('keys')
    stop()
    await feed.publish('keys', 'k2')
    expect(heard).toEqual(['k1', null])
  })

  it('a failing listener does not keep the others from hearing', async () => {
    const feed = new LocalChangeFeed()
    const heard: string[] = []
    feed.subscribe('keys', () => {
      throw new Error('boom')
    })
    feed.subscribe('keys', (key) => heard.push(key!))
    await feed.publish('keys', 'k')
    expect(heard).toEqual(['k'])
  })
})

/** A worker's end of the IPC channel: what it sent, and a way to hand it messages. */
function fakeChannel(fail?: 'callback' | 'throw') {
  const emitter = new EventEmitter()
  const sent: unknown[] = []
  return {
    sent,
    receive: (message: unknown) => emitter.emit('message', message),
    listeners: () => emitter.listenerCount('message'),
    on: (event: 'message', listener: (m: any) => void) => emitter.on(event, listener),
    off: (event: 'message', listener: (m: any) => void) => emitter.off(event, listener),
    send(message: unknown, callback?: (error: Error | null) => void) {
      if (fail === 'throw') throw new Error('channel closed')
      sent.push(message)
      setImmediate(() => callback?.(fail === 'callback' ? new Error('channel closed') : null))
      return true
    },
  }
}

describe('RelayedChangeFeed (a worker of plinth serve --workers N on SQLite)', () => {
  it('delivers here before publish returns and sends the change to the primary; delivers what the primary hands it', async () => {
    const channel = fakeChannel()
    const feed = new RelayedChangeFeed(channel)
    const heard: (string | null)[] = []
    feed.subscribe('keys', (key) => heard.push(key))
    feed.subscribe('models', (key) => heard.push(`models ${key}`))
    const published = feed.publish('keys', 'k1')
    expect(heard).toEqual(['k1'])
    await published
    expect(channel.sent).toEqual([{ plinthChanges: 'publish', t: 'keys', k: 'k1', at: expect.any(Number) }])
    // its own changes do not come back from the primary; another worker's do
    channel.receive({ plinthChanges: 'deliver', t: 'models', k: null, at: 0 } satisfies RelayedChange)
    channel.receive({ plinthChanges: 'publish', t: 'keys', k: 'not for a worker', at: 0 })
    channel.receive({ plinthLimiter: 'result', id: 1 })
    expect(heard).toEqual(['k1', 'models null'])
    await feed.close()
    expect(channel.listeners()).toBe(0)
  })

  it('a channel that fails (the primary gone) loses the relay, never the publish', async () => {
    for (const fail of ['callback', 'throw'] as const) {
      const feed = new RelayedChangeFeed(fakeChannel(fail))
      const heard: (string | null)[] = []
      feed.subscribe('rate_limits', (key) => heard.push(key))
      await expect(feed.publish('rate_limits', 'proj_1')).resolves.toBeUndefined()
      await new Promise((r) => setImmediate(r))
      expect(heard).toEqual(['proj_1'])
      await feed.close()
    }
  })
})

describePg('PgChangeFeed (nodes on one PostgreSQL)', () => {
  let db: Kysely<any>
  const feeds: PgChangeFeed[] = []
  const open = async (schema: string) => {
    const feed = new PgChangeFeed(pgTestUrl()!, schema, db)
    feeds.push(feed)
    await feed.ready
    return feed
  }
  const until = async (what: string, check: () => boolean, ms = 5000) => {
    const t0 = Date.now()
    while (!check()) {
      if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return Date.now() - t0
  }

  beforeAll(() => {
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgTestUrl(), max: 2 }) }) })
  })
  afterAll(async () => {
    for (const feed of feeds) await feed.close()
    await db?.destroy()
  })

  it('another node hears what one publishes; another schema does not; the publisher hears it once', async () => {
    const schema = `s_${process.pid}_${Date.now()}`
    const [a, b, other] = [await open(schema), await open(schema), await open(`${schema}_x`)]
    const heard = { a: [] as (string | null)[], b: [] as (string | null)[], other: [] as (string | null)[] }
    a.subscribe('rate_limits', (k) => heard.a.push(k))
    b.subscribe('rate_limits', (k) => heard.b.push(k))
    other.subscribe('rate_limits', (k) => heard.other.push(k))
    await a.publish('rate_limits', 'proj_1')
    const ms = await until('node b hears', () => heard.b.length > 0)
    // a's own notification comes back over the wire too: it was applied when published
    await new Promise((r) => setTimeout(r, 100))
    expect(heard).toEqual({ a: ['proj_1'], b: ['proj_1'], other: [] })
    console.info(`change feed: heard on the other node after ${ms} ms`)
  })

  it('reconnects after its connection is killed, clears every cache, and hears again', async () => {
    const schema = `r_${process.pid}_${Date.now()}`
    const [a, b] = [await open(schema), await open(schema)]
    const heard: (string | null)[] = []
    b.subscribe('keys', (k) => heard.push(k))
    b.subscribe('rate_limits', (k) => heard.push(`limits:${k}`))
    const pid = b.listenerPid!
    expect(pid).toBeGreaterThan(0)
    await pgQuery(pgTestUrl()!, 'select pg_terminate_backend($1)', [pid])
    // the loss clears at once, and the reconnect clears again (what was sent meanwhile is lost)
    const ms = await until('listening again', () => b.listening && b.listenerPid !== pid)
    expect(heard.filter((k) => k === null).length).toBeGreaterThanOrEqual(2)
    expect(heard).toContain('limits:null')
    heard.length = 0
    await a.publish('keys', 'k-after')
    await until('heard after the reconnect', () => heard.includes('k-after'))
    console.info(`change feed: listening again ${ms} ms after its connection was killed`)
  })
})
