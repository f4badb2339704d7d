import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { sql, type Kysely } from 'kysely'
import { dbLog } from '../logger.js'

/**
 * What a cache may hold stale: `keys` (principals: keys, roles, projects' status and model
 * permissions), `rate_limits` (a project's own limits, by project id), `models` (the fine-tuned
 * models a node serves: a job that finished, a model deleted, a checkpoint granted).
 */
export type ChangeTopic = 'keys' | 'rate_limits' | 'models' | 'spend'

/** Called with the changed key, or with null: anything under the topic may have changed. */
export type ChangeListener = (key: string | null) => void

/**
 * Tells every node's caches that something changed (issue 20). `publish` reaches this process's
 * listeners before it returns, and the other nodes' over the database (PostgreSQL LISTEN/NOTIFY)
 * a few milliseconds later. A notification can be lost (the listening connection dropped), so
 * caches also bound the age of what they serve; after a reconnect every listener hears `null`.
 */
export interface ChangeFeed {
  /** Call after the change is committed: a node that hears it reads the new state. */
  publish(topic: ChangeTopic, key?: string | null): Promise<void>
  /** Returns the function that stops listening. */
  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void
  close(): Promise<void>
}

/** One process (SQLite: a single node): changes are delivered in-process, synchronously. */
export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<ChangeTopic, Set<ChangeListener>>()

  async publish(topic: ChangeTopic, key: string | null = null): Promise<void> {
    this.deliver(topic, key)
  }

  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void {
    let set = this.listeners.get(topic)
    if (!set) this.listeners.set(topic, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }

  protected deliver(topic: ChangeTopic, key: string | null) {
    for (const listener of this.listeners.get(topic) ?? []) {
      try {
        listener(key)
      } catch (error) {
        dbLog.error({ err: error, topic }, 'a change listener failed')
      }
    }
  }

  /** Everything may have changed: every listener of every topic hears null. */
  protected deliverAll() {
    for (const topic of this.listeners.keys()) this.deliver(topic, null)
  }
}

const CHANNEL = 'plinth_changes'
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5_000
/** A listening connection that died without a word (no RST) is found by this ping. */
const PING_EVERY_MS = 10_000
const PING_TIMEOUT_MS = 5_000

type Notice = { s: string; t: ChangeTopic; k: string | null; n: string }

/**
 * Several nodes on one PostgreSQL database: a dedicated connection LISTENs; `publish` sends
 * pg_notify through the storage's pool (so a change is announced even while the listener is
 * reconnecting). Notifications carry the schema, so that databases shared by several schemas
 * (tests, several deployments) do not clear each other's caches. The listener reconnects with
 * backoff; once it is back, every cache is cleared, since notifications sent meanwhile are lost.
 */
export class PgChangeFeed extends LocalChangeFeed {
  /** tells this node's own notifications apart: it applied them when it published them */
  private readonly node = randomBytes(8).toString('hex')
  private client: pg.Client | undefined
  private closed = false
  private connected = false
  private backoffMs = RECONNECT_MIN_MS
  /** a connection was lost or never made: what was published meanwhile was not heard */
  private lostOnce = false
  private retry: NodeJS.Timeout | undefined
  private ping: NodeJS.Timeout | undefined
  /** resolves once the first LISTEN is in place (or failed) */
  readonly ready: Promise<void>

  constructor(
    private readonly url: string,
    private readonly schema: string,
    private readonly db: Kysely<any>,
  ) {
    super()
    this.ready = this.connect()
  }

  /** True while the listening connection is up (a notification sent now will be heard). */
  get listening(): boolean {
    return this.connected
  }

  /** The listening connection's server process (tests end it to see the feed reconnect). */
  get listenerPid(): number | undefined {
    return this.connected ? (this.client as { processID?: number } | undefined)?.processID : undefined
  }

  async publish(topic: ChangeTopic, key: string | null = null): Promise<void> {
    this.deliver(topic, key)
    const notice: Notice = { s: this.schema, t: topic, k: key, n: this.node }
    try {
      await sql`select pg_notify(${CHANNEL}, ${JSON.stringify(notice)})`.execute(this.db)
    } catch (error) {
      // the change is committed; other nodes see it within their caches' bound
      dbLog.warn({ err: error, topic }, 'could not announce a change to the other nodes')
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retry)
    clearInterval(this.ping)
    const client = this.client
    this.client = undefined
    this.connected = false
    await client?.end().catch(() => {})
    await super.close()
  }

  private async connect(): Promise<void> {
    if (this.closed) return
    const client = new pg.Client({ connectionString: this.url, keepAlive: true })
    this.client = client
    // every emitter has a listener: a dropped connection is a reconnect, never a crash
    client.on('error', (error) => this.lost(client, error))
    client.on('end', () => this.lost(client))
    client.on('notification', (message) => this.heard(message.channel, message.payload))
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANNEL}`)
    } catch (error) {
      this.lost(client, error)
      return
    }
    if (this.client !== client) return
    const wasDown = this.lostOnce
    this.connected = true
    this.backoffMs = RECONNECT_MIN_MS
    clearInterval(this.ping)
    this.ping = setInterval(() => this.check(client), PING_EVERY_MS)
    this.ping.unref()
    // what changed while nobody listened was not heard: read everything again
    if (wasDown) {
      dbLog.info('change notifications: listening again; caches cleared')
      this.deliverAll()
    }
  }

  private heard(channel: string, payload: string | undefined) {
    if (channel !== CHANNEL || !payload) return
    let notice: Notice
    try {
      notice = JSON.parse(payload)
    } catch {
      return
    }
    if (notice.s !== this.schema || notice.n === this.node) return
    this.deliver(notice.t, notice.k ?? null)
  }

  private check(client: pg.Client) {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('change listener: ping timed out')), PING_TIMEOUT_MS)
    })
    Promise.race([client.query('SELECT 1'), timeout])
      .catch((error) => this.lost(client, error))
      .finally(() => clearTimeout(timer))
  }

  private lost(client: pg.Client, error?: unknown) {
    if (this.client !== client) return
    this.client = undefined
    this.connected = false
    this.lostOnce = true
    clearInterval(this.ping)
    // end() on a broken connection may reject or emit again: both are ignored (client is gone)
    client.end().catch(() => {})
    if (this.closed) return
    dbLog.warn({ err: error }, `change notifications: connection lost; reconnecting in ${this.backoffMs} ms`)
    // the caches bound what they serve meanwhile; clearing now makes the gap shorter still
    this.deliverAll()
    this.retry = setTimeout(() => void this.connect(), this.backoffMs)
    this.retry.unref()
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS)
  }
}

/**
 * What a worker tells the primary, and the primary each other worker (cluster.ts relays it);
 * `at` (when it was published) is only for the debug log's lag.
 */
export type RelayedChange = { plinthChanges: 'publish' | 'deliver'; t: ChangeTopic; k: string | null; at: number }

/** The wall clock to a microsecond or so: the relay's lag is well under a millisecond. */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now()
}

/** A worker's end of its IPC channel to the primary (`process`). */
export type RelayChannel = {
  send(message: unknown, callback?: (error: Error | null) => void): unknown
  on(event: 'message', listener: (message: any) => void): unknown
  off(event: 'message', listener: (message: any) => void): unknown
}

/**
 * A worker of `plinth serve --workers N` on SQLite: the workers share the database file but no
 * connection to listen on, so the primary relays. `publish` delivers here before it returns, as
 * LocalChangeFeed does, and sends the change to the primary, which hands it to every other live
 * worker; what the primary hands this worker is delivered here. The send is fire-and-forget: a
 * channel that is closing loses the change, and the caches' age bound covers it, as a lost
 * notification on PostgreSQL.
 */
export class RelayedChangeFeed extends LocalChangeFeed {
  private readonly onMessage = (message: RelayedChange) => {
    if (message?.plinthChanges !== 'deliver') return
    dbLog.debug({ topic: message.t, lagMs: Math.round((wallClockMs() - message.at) * 1000) / 1000 }, 'a change relayed from another worker')
    this.deliver(message.t, message.k ?? null)
  }

  constructor(private readonly channel: RelayChannel) {
    super()
    channel.on('message', this.onMessage)
  }

  async publish(topic: ChangeTopic, key: string | null = null): Promise<void> {
    this.deliver(topic, key)
    const message: RelayedChange = { plinthChanges: 'publish', t: topic, k: key, at: wallClockMs() }
    try {
      this.channel.send(message, (error) => {
        if (error) dbLog.warn({ err: error, topic }, 'could not relay a change to the other workers')
      })
    } catch (error) {
      // a channel already closed throws on some paths rather than calling back
      dbLog.warn({ err: error, topic }, 'could not relay a change to the other workers')
    }
  }

  async close(): Promise<void> {
    this.channel.off('message', this.onMessage)
    await super.close()
  }
}
