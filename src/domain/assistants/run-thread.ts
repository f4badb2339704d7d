import type { ChatMessageParam } from '../../schemas/chat.js'
import type { Repos } from '../../storage/repositories/index.js'
import type { PromptHead, PromptMessageRow } from '../../storage/repositories/messages.js'
import {
  append,
  blockOf,
  cachedThread,
  frozen,
  prepend,
  type CacheableMessage,
  type CachedThread,
  type PromptCache,
} from './prompt-cache.js'
import { chatMessage, MAX_PROMPT_PAGE, type CountedMessage, type PromptBlock, type ThreadPages } from './run-prompt.js'

/** The most messages newer than a cached copy a build reads with the check; more: read afresh. */
const ABOVE_LIMIT = MAX_PROMPT_PAGE

type Read = { row: PromptMessageRow; message: ChatMessageParam }
type Page = { messages: CountedMessage[]; block?: PromptBlock; next: string | null }

/**
 * A thread read backwards for a run's prompt (keyset pages on the messages_thread index); the
 * messages of `runId` itself are left out (the prompt shows them as the run's own steps). With a
 * cache, what a prompt read is kept for the next one, and used once checked (CachedPages).
 */
export function threadPages(
  repos: Repos,
  projectId: string,
  threadId: string,
  runId?: string,
  cache?: PromptCache,
): ThreadPages {
  if (cache) return new CachedPages(repos, projectId, threadId, runId, cache)
  return {
    async page(before, limit) {
      const rows = await repos.messages.newestBefore(projectId, threadId, before, limit)
      return { messages: shown(rows.map(read), runId), next: rows.length < limit ? null : rows[rows.length - 1].id }
    },
    store: (counts) => repos.messages.setTokenCounts(projectId, threadId, counts),
  }
}

/**
 * The thread through a PromptCache. The first page's statement reads the thread's counters with
 * its newest messages (MessagesRepo.promptHead); a cached copy is used when, at that moment,
 * nothing was deleted or rewritten since it was checked last and every message inserted since is
 * newer than it (it finds them all among those it read). The messages newer than the copy come
 * from the database every time: a run's in_progress message, whose content still grows, is
 * never cached. When the prompt is built, the copy takes what was read: the finished messages
 * just above it, and below it the pages read past its oldest; without a copy, a new one of the
 * finished messages read (from the oldest unfinished one down).
 */
class CachedPages implements ThreadPages {
  /** a checked copy: its newest and oldest then, and what the check read (newest first) */
  private hit?: { entry: CachedThread; newest: string; oldest: string; head: PromptHead; above: Read[] }
  /** no copy: the counters read with the first page */
  private fill?: { added: number; changed: number }
  /** the pages read (after the check, on a hit), newest first */
  private readonly read: Read[] = []
  private readonly counts = new Map<string, number>()
  private reachedStart = false

  constructor(
    private readonly repos: Repos,
    private readonly projectId: string,
    private readonly threadId: string,
    private readonly runId: string | undefined,
    private readonly cache: PromptCache,
  ) {}

  async page(before: string | null, limit: number): Promise<Page> {
    const { repos, projectId, threadId, cache } = this
    if (before !== null) {
      return this.pageRead(await repos.messages.newestBefore(projectId, threadId, before, limit), limit)
    }
    const entry = cache.get(projectId, threadId)
    if (entry) {
      const head = await repos.messages.promptHead(projectId, threadId, entry.newest, ABOVE_LIMIT)
      if (head && unchanged(entry, head)) {
        const above = head.rows.map(read)
        this.hit = { entry, newest: entry.newest, oldest: entry.oldest, head, above }
        this.reachedStart = entry.complete
        return {
          messages: shown(above, this.runId),
          block: blockOf(entry, this.runId),
          next: entry.complete ? null : entry.oldest,
        }
      }
      cache.delete(projectId, threadId, entry)
      if (!head) return { messages: [], next: null }
    }
    const head = await repos.messages.promptHead(projectId, threadId, null, limit)
    if (!head) return { messages: [], next: null }
    this.fill = { added: head.added, changed: head.changed }
    return this.pageRead(head.rows, limit)
  }

  async store(counts: ReadonlyMap<string, number>) {
    await this.repos.messages.setTokenCounts(this.projectId, this.threadId, counts)
    for (const [id, n] of counts) this.counts.set(id, n)
  }

  end() {
    if (this.hit) this.grow(this.hit)
    else if (this.fill) this.keep(this.fill)
  }

  private pageRead(rows: PromptMessageRow[], limit: number): Page {
    const pageRows = rows.map(read)
    this.read.push(...pageRows)
    const next = rows.length < limit ? null : rows[rows.length - 1].id
    if (next === null) this.reachedStart = true
    return { messages: shown(pageRows, this.runId), next }
  }

  /** A finished message with its count, or null (unfinished, or never counted). */
  private cacheable({ row, message }: Read): CacheableMessage | null {
    if (row.status === 'in_progress') return null
    const tokens = row.token_count ?? this.counts.get(row.id) ?? null
    if (tokens === null) return null
    return { id: row.id, runId: row.run_id, message: frozen(message), tokens }
  }

  /** The checked copy takes the finished messages above it, and the pages read below it. */
  private grow(hit: NonNullable<CachedPages['hit']>) {
    const { entry } = hit
    // another build replaced or dropped it meanwhile, or grew it: its own check stands
    if (this.cache.get(this.projectId, this.threadId) !== entry) return
    if (entry.newest === hit.newest) {
      const newer: CacheableMessage[] = []
      for (let i = hit.above.length - 1; i >= 0; i--) {
        const m = this.cacheable(hit.above[i])
        if (!m) break
        newer.push(m)
      }
      append(entry, newer)
      entry.above = hit.above.length - newer.length
      entry.added = hit.head.added
    }
    if (!entry.complete && entry.oldest === hit.oldest && this.read.length) {
      const older: CacheableMessage[] = []
      for (const item of this.read) {
        const m = this.cacheable(item)
        if (!m) break
        older.push(m)
      }
      prepend(entry, older.reverse(), older.length === this.read.length && this.reachedStart)
    }
    this.cache.set(this.projectId, this.threadId, entry)
  }

  /** A new copy of the finished messages read, below the last unfinished one. */
  private keep(fill: { added: number; changed: number }) {
    let above = 0
    /** newest first */
    let kept: CacheableMessage[] = []
    let stopped = false
    for (const item of this.read) {
      const m = this.cacheable(item)
      const own = this.runId !== undefined && item.row.run_id === this.runId
      if (item.row.status === 'in_progress' || (!m && own)) {
        // it and all newer are read again on every build
        above += kept.length + 1
        kept = []
      } else if (!m) {
        // not reached by this prompt (not counted): the copy ends here
        stopped = true
        break
      } else kept.push(m)
    }
    if (!kept.length) return
    const complete = !stopped && this.reachedStart
    this.cache.set(this.projectId, this.threadId, cachedThread(kept.reverse(), { ...fill, above, complete }))
  }
}

/** Nothing deleted or rewritten since the copy was checked; every message inserted is above it. */
function unchanged(entry: CachedThread, head: PromptHead): boolean {
  if (head.changed !== entry.changed || head.rows.length >= ABOVE_LIMIT) return false
  return head.rows.length - entry.above === head.added - entry.added
}

function read(row: PromptMessageRow): Read {
  return { row, message: chatMessage({ role: row.role, content: JSON.parse(row.content) }) }
}

function shown(rows: Read[], runId: string | undefined): CountedMessage[] {
  const out: CountedMessage[] = []
  for (const { row, message } of rows) {
    if (runId === undefined || row.run_id !== runId) out.push({ id: row.id, message, tokens: row.token_count })
  }
  return out
}
