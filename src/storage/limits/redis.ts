import { Redis, type RedisOptions } from 'ioredis'
import { step } from './gcra.js'
import type { AcquireResult, Counter, RateLimiter } from './limiter.js'

/**
 * The GCRA of gcra.ts as Lua, so that checking every counter and charging them all is one atomic
 * step on the Redis server, whichever node asks. Time is the server's (TIME), so nodes whose
 * clocks drift still share one timeline. Floats travel as %.17g strings: Redis turns a Lua number
 * reply into an integer, and tostring keeps only 14 digits.
 *
 * KEYS: the counters. ARGV: limit, windowMs, cost per counter.
 * Reply: { blocked (0 = charged, else the 1-based counter that had no room), now, tat per counter
 * as it was before }.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local tats, nexts = {}, {}
local blocked = 0
for i = 1, n do
  local limit = tonumber(ARGV[i * 3 - 2])
  local window = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  tats[i] = tat
  local base = tat
  if base < now then base = now end
  nexts[i] = base + cost * window / limit
  if blocked == 0 and nexts[i] - now > window + 1e-6 then blocked = i end
end
if blocked == 0 then
  for i = 1, n do
    local ttl = math.ceil(nexts[i] - now) + 1000
    redis.call('SET', KEYS[i], string.format('%.17g', nexts[i]), 'PX', ttl)
  end
end
local reply = { blocked, string.format('%.17g', now) }
for i = 1, n do reply[i + 2] = string.format('%.17g', tats[i]) end
return reply
`

/** KEYS[1]: the counter. ARGV: limit, windowMs, delta (may be negative). */
const ADJUST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit, window, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + delta * window / limit
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1000)
end
return 1
`

type LimitCommands = {
  plinthAcquire(...args: (string | number)[]): Promise<[number, string, ...string[]]>
  plinthAdjust(...args: (string | number)[]): Promise<number>
}

export type RedisLimiterOptions = {
  url: string
  /** Prepended to every counter key (default `plinth:rl:`). */
  prefix?: string
  /** A command that takes longer fails (the caller decides what a failure means). */
  commandTimeoutMs?: number
}

/**
 * Counters in Redis, shared by every node that points at the same server: several nodes together
 * allow the limit once, not once each. Each acquire is one round trip (EVALSHA of a cached
 * script). Commands fail fast while the connection is down instead of queueing, so a Redis outage
 * costs requests a failed call, never a hang.
 */
export class RedisLimiter implements RateLimiter {
  private readonly redis: Redis & LimitCommands
  private readonly prefix: string

  constructor(options: RedisLimiterOptions) {
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
    }
    this.redis = new Redis(options.url, redisOptions) as Redis & LimitCommands
    this.redis.defineCommand('plinthAcquire', { lua: ACQUIRE })
    this.redis.defineCommand('plinthAdjust', { lua: ADJUST, numberOfKeys: 1 })
    // errors reach the callers of the commands; unhandled 'error' events would crash the process
    this.redis.on('error', () => {})
    this.prefix = options.prefix ?? 'plinth:rl:'
  }

  async ping(): Promise<void> {
    await this.connect()
    await this.redis.ping()
  }

  /** Connects (the constructor does not, so a context can be built while Redis is down). */
  async connect(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect()
  }

  async acquire(counters: readonly Counter[]): Promise<AcquireResult> {
    const args: (string | number)[] = [counters.length]
    for (const c of counters) args.push(this.prefix + c.key)
    for (const c of counters) args.push(c.limit, c.windowMs, c.cost)
    const [blocked, nowText, ...tatTexts] = await this.redis.plinthAcquire(...args)
    const now = Number(nowText)
    const steps = counters.map((c, i) => step(Number(tatTexts[i]), now, c.limit, c.windowMs, c.cost))
    const states = steps.map((s) => s.state)
    if (blocked === 0) return { ok: true, states }
    return { ok: false, blocked: blocked - 1, retryMs: steps[blocked - 1].waitMs, states }
  }

  async adjust(counter: Counter): Promise<void> {
    await this.redis.plinthAdjust(this.prefix + counter.key, counter.limit, counter.windowMs, counter.cost)
  }

  async close() {
    this.redis.disconnect()
  }
}
