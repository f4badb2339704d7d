import { LRUCache } from 'lru-cache'
import type { ChatMessageParam } from '../../schemas/chat.js'
import type { PromptBlock } from './run-prompt.js'

/** What the cache holds at most by default: a 10,000-message thread of short messages is ~3 MB. */
export const PROMPT_CACHE_BYTES = 64 * 1024 * 1024

/**
 * A thread's finished messages [oldest, newest], contiguous in id order, converted to chat
 * messages and counted, as a run's prompt last read them; with the thread's message counters
 * (migration 0018) of that moment. Checked on every use against the counters and the messages
 * newer than `newest` (run-thread.ts): nothing deleted or rewritten since, and every message
 * inserted since is newer than `newest`.
 */
export type CachedThread = {
  /** threads.messages_added and messages_changed when this copy was checked last */
  added: number
  changed: number
  /** the thread's messages newer than `newest` then (not cached: read again on every build) */
  above: number
  oldest: string
  newest: string
  /** `oldest` is the thread's first message: nothing to read below it */
  complete: boolean
  /** oldest first, frozen (prompts share them) */
  messages: ChatMessageParam[]
  /** sums[i]: the tokens of messages[0..i) */
  sums: number[]
  /** the run that wrote each message, if any (a run's prompt leaves its own out) */
  runIds: (string | null)[]
  runs: Set<string>
  bytes: number
}

/** A message the cache may hold: finished, converted, counted. */
export type CacheableMessage = { id: string; runId: string | null; message: ChatMessageParam; tokens: number }

/**
 * The converted, counted messages of the threads runs build prompts of, so that a long thread is
 * not read and parsed again for every model turn (docs/assistants.md, "The prompt"). One per
 * node (each checks its copies against the database), bounded by an estimate of the bytes held,
 * least recently used first out.
 */
export class PromptCache {
  private readonly entries: LRUCache<string, CachedThread>

  constructor(maxBytes = PROMPT_CACHE_BYTES) {
    this.entries = new LRUCache({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
    })
  }

  get(projectId: string, threadId: string): CachedThread | undefined {
    return this.entries.get(key(projectId, threadId))
  }

  /** Keeps `entry` (again, after it grew: its size is measured anew). */
  set(projectId: string, threadId: string, entry: CachedThread) {
    this.entries.set(key(projectId, threadId), entry)
  }

  delete(projectId: string, threadId: string, entry?: CachedThread) {
    const k = key(projectId, threadId)
    if (!entry || this.entries.peek(k) === entry) this.entries.delete(k)
  }

  /** The estimated bytes held (for tests and metrics). */
  get bytes(): number {
    return this.entries.calculatedSize
  }
}

const key = (projectId: string, threadId: string) => `${projectId}/${threadId}`

/**
 * A new copy of `messages` (oldest first). `above`: the thread's messages newer than the last of
 * them when the counters were read.
 */
export function cachedThread(
  messages: readonly CacheableMessage[],
  counters: { added: number; changed: number; above: number; complete: boolean },
): CachedThread {
  const entry: CachedThread = {
    ...counters,
    oldest: messages[0].id,
    newest: messages[messages.length - 1].id,
    messages: [],
    sums: [0],
    runIds: [],
    runs: new Set(),
    bytes: 0,
  }
  append(entry, messages)
  return entry
}

/** Adds messages newer than the copy's newest (oldest first): the arrays grow in place. */
export function append(entry: CachedThread, messages: readonly CacheableMessage[]) {
  for (const m of messages) {
    entry.messages.push(m.message)
    entry.sums.push(entry.sums[entry.sums.length - 1] + m.tokens)
    entry.runIds.push(m.runId)
    if (m.runId !== null) entry.runs.add(m.runId)
    entry.bytes += messageBytes(m)
  }
  if (messages.length) entry.newest = messages[messages.length - 1].id
}

/**
 * Adds messages older than the copy's oldest (oldest first). New arrays: a prompt being built
 * may hold the old ones (a PromptBlock), which must not change under it.
 */
export function prepend(entry: CachedThread, messages: readonly CacheableMessage[], complete: boolean) {
  if (messages.length) {
    const older = cachedThread(messages, { added: entry.added, changed: entry.changed, above: entry.above, complete })
    const shift = older.sums[older.sums.length - 1]
    entry.messages = older.messages.concat(entry.messages)
    entry.sums = older.sums.concat(entry.sums.slice(1).map((s) => s + shift))
    entry.runIds = older.runIds.concat(entry.runIds)
    for (const run of older.runs) entry.runs.add(run)
    entry.bytes += older.bytes
    entry.oldest = messages[0].id
  }
  entry.complete = complete
}

/** The copy's messages as a prompt reads them, without those `runId` wrote. */
export function blockOf(entry: CachedThread, runId?: string): PromptBlock {
  if (runId === undefined || !entry.runs.has(runId)) {
    return { messages: entry.messages, sums: entry.sums, length: entry.messages.length }
  }
  const messages: ChatMessageParam[] = []
  const sums = [0]
  for (let i = 0; i < entry.messages.length; i++) {
    if (entry.runIds[i] === runId) continue
    messages.push(entry.messages[i])
    sums.push(sums[sums.length - 1] + entry.sums[i + 1] - entry.sums[i])
  }
  return { messages, sums, length: messages.length }
}

/** Object header, array slots, id and count, and the text (two bytes a character). */
function messageBytes(m: CacheableMessage): number {
  const content = m.message.content
  const text = typeof content === 'string' ? content.length : content ? JSON.stringify(content).length : 0
  return 160 + 2 * (m.id.length + text)
}

/** Prompts share the cached messages: none may change one. */
export function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) frozen(item)
    Object.freeze(value)
  }
  return value
}
