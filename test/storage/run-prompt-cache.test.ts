import type { Kysely, KyselyPlugin } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PromptCache } from '../../src/domain/assistants/prompt-cache.js'
import { buildPrompt, type PromptInput } from '../../src/domain/assistants/run-prompt.js'
import { threadPages } from '../../src/domain/assistants/run-thread.js'
import type { TruncationStrategy } from '../../src/schemas/runs.js'
import { newId } from '../../src/storage/ids.js'
import type { MessageRow } from '../../src/storage/repositories/messages.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// A run's prompt through the prompt cache (prompt-cache.ts, run-thread.ts) is the prompt read
// from the database, whatever changed in between: checked against a build without the cache.

const PROJECT = 'proj_cache'
const auto: TruncationStrategy = { type: 'auto', last_messages: null }
const words = ['alpha', 'beta gamma', 'a much longer sentence with several words in it', 'émoji 🎉 and ünïcode']

/** Counts the SELECT statements a build makes. */
function counting(db: Kysely<any>) {
  const kinds = new Map<unknown, string>()
  const seen = { selects: 0 }
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      kinds.set(args.queryId, args.node.kind)
      return args.node
    },
    async transformResult(args) {
      if (kinds.get(args.queryId) === 'SelectQueryNode') seen.selects++
      return args.result
    },
  }
  return { db: db.withPlugin(plugin), seen }
}

/** Message ids are unique across threads; within one they sort by n. */
const mid = (threadId: string, n: number) => `msg_${threadId.slice(-12)}_${String(n).padStart(8, '0')}`

function message(threadId: string, n: number, over: Partial<MessageRow> = {}): MessageRow {
  const text = Array.from({ length: 1 + (n % 5) }, (_, k) => words[(n + k) % words.length]).join(' ')
  return {
    id: mid(threadId, n),
    project_id: PROJECT,
    thread_id: threadId,
    created_at: n,
    role: n % 3 === 2 ? 'assistant' : 'user',
    content: JSON.stringify([{ type: 'text', text: { value: `${n}: ${text}`, annotations: [] } }]),
    attachments: '[]',
    metadata: '{}',
    status: 'completed',
    incomplete_details: null,
    completed_at: n,
    incomplete_at: null,
    assistant_id: null,
    run_id: null,
    token_count: null,
    ...over,
  }
}

const content = (text: string) => JSON.stringify([{ type: 'text', text: { value: text, annotations: [] } }])

const cases = storageCases()
if (cases.length === 1) skippedPgCase('run prompt cache on PostgreSQL')

describe.each(cases)('run prompts through the prompt cache on $name', ({ create }) => {
  let storage: Storage
  /** a second node on the same database */
  let other: Storage
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('run-prompt-cache')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
    other = await openStorage(made.config)
  }, 60_000)
  afterAll(async () => {
    await other?.close()
    await storage?.close()
    await cleanup?.()
  })

  async function thread(count: number): Promise<string> {
    const repos = createRepos(storage.db)
    const id = newId('thread_')
    await repos.threads.insert({ id, project_id: PROJECT, created_at: 1, tool_resources: '{}', metadata: '{}', active_run_id: null })
    if (count) await repos.messages.insert(...Array.from({ length: count }, (_, i) => message(id, (i + 1) * 10)))
    return id
  }

  function build(db: Kysely<any>, threadId: string, cache: PromptCache | undefined, over: Partial<PromptInput> & { runId?: string } = {}) {
    const { runId, ...rest } = over
    return buildPrompt({
      instructions: 'Be brief.',
      thread: threadPages(createRepos(db), PROJECT, threadId, runId, cache),
      steps: [],
      ownMessages: new Map(),
      truncation: auto,
      maxPromptTokens: null,
      tools: [],
      ...rest,
    })
  }

  /** The cached build, checked against the database's. */
  async function same(threadId: string, cache: PromptCache, over: Partial<PromptInput> & { runId?: string } = {}) {
    const expected = await build(storage.db, threadId, undefined, over)
    const { db, seen } = counting(storage.db)
    const built = await build(db, threadId, cache, over)
    expect(built, JSON.stringify(over)).toEqual(expected)
    return { built, selects: seen.selects }
  }

  const texts = (built: { messages: { content?: unknown }[] }) => built.messages.map((m) => JSON.stringify(m.content)).join('\n')

  it('builds what the database holds, for every truncation, and then reads one statement', async () => {
    const id = await thread(300)
    const cache = new PromptCache()
    const settings: Partial<PromptInput>[] = [
      { truncation: { type: 'last_messages', last_messages: 1 } },
      { contextTokens: 500 },
      { maxPromptTokens: 1_000, contextTokens: 400 },
      { truncation: { type: 'last_messages', last_messages: 150 }, maxPromptTokens: 300 },
      { maxPromptTokens: 5 },
      { contextTokens: 2_000 },
      {},
      { truncation: { type: 'last_messages', last_messages: 1000 }, contextTokens: 50 },
      { contextTokens: 700 },
    ]
    // each one twice: the first may read past what is cached, the second finds it all
    for (const s of settings) for (let pass = 0; pass < 2; pass++) await same(id, cache, s)
    // the whole thread is cached now: the check is the only statement
    const { built, selects } = await same(id, cache)
    expect(built.messages).toHaveLength(301)
    expect(selects).toBe(1)
    expect(cache.get(PROJECT, id)).toMatchObject({ complete: true, oldest: mid(id, 10), newest: mid(id, 3000) })
  })

  it('leaves out a message deleted since, on this node or another', async () => {
    const id = await thread(50)
    const cache = new PromptCache()
    await same(id, cache)
    expect(await createRepos(storage.db).messages.delete(PROJECT, id, mid(id, 250))).toBe(true)
    expect(texts((await same(id, cache)).built)).not.toContain('250: ')
    // another node deletes one: this node's copy is checked against the same counters
    expect(await createRepos(other.db).messages.delete(PROJECT, id, mid(id, 120))).toBe(true)
    const { built } = await same(id, cache)
    expect(texts(built)).not.toContain('120: ')
    expect(built.messages).toHaveLength(1 + 48)
  })

  it('takes the messages added since with the check, and keeps them', async () => {
    const id = await thread(50)
    const cache = new PromptCache()
    await same(id, cache)
    await createRepos(other.db).messages.insert(message(id, 510), message(id, 520))
    const { built, selects } = await same(id, cache)
    expect(texts(built)).toContain('520: ')
    expect(selects).toBe(1)
    expect(cache.get(PROJECT, id)!.newest).toBe(mid(id, 520))
    expect((await same(id, cache)).selects).toBe(1)
  })

  it('finds a message inserted below the cached ones (another node, its clock behind)', async () => {
    const id = await thread(50)
    const cache = new PromptCache()
    await same(id, cache)
    // between two cached messages, and one above them: the count of messages added gives it away
    await createRepos(other.db).messages.insert(message(id, 255), message(id, 600))
    const { built } = await same(id, cache)
    expect(texts(built)).toContain('255: ')
    expect(texts(built)).toContain('600: ')
  })

  it("reads a run's in_progress message afresh until it is finished, then keeps it", async () => {
    const id = await thread(20)
    const cache = new PromptCache()
    const repos = createRepos(storage.db)
    const head = () => repos.messages.promptHead(PROJECT, id, null, 1)
    await repos.messages.insert(message(id, 300, { role: 'assistant', status: 'in_progress', content: content('the answer so'), run_id: 'run_a', completed_at: null }))
    expect(texts((await same(id, cache)).built)).toContain('the answer so')
    expect(cache.get(PROJECT, id)!.newest).toBe(mid(id, 200))
    const before = await head()
    await repos.messages.update(PROJECT, id, mid(id, 300), { content: content('the answer so far') })
    expect(texts((await same(id, cache)).built)).toContain('the answer so far')
    await repos.messages.update(PROJECT, id, mid(id, 300), { content: content('the answer so far is 42'), status: 'completed', completed_at: 1 })
    // a message finished is no change to what is cached: the counters did not move
    expect(await head()).toMatchObject({ added: before!.added, changed: before!.changed })
    expect(texts((await same(id, cache)).built)).toContain('the answer so far is 42')
    expect(cache.get(PROJECT, id)!.newest).toBe(mid(id, 300))
    // its own run leaves it out, cached or not
    expect(texts((await same(id, cache, { runId: 'run_a' })).built)).not.toContain('the answer')
    // a finished message rewritten (never done by Plinth, but by SQL or a later version) counts as a change
    await createRepos(other.db).messages.update(PROJECT, id, mid(id, 300), { content: content('rewritten') })
    expect(await head()).toMatchObject({ changed: before!.changed + 1 })
    const { built } = await same(id, cache)
    expect(texts(built)).toContain('rewritten')
    expect(texts(built)).not.toContain('the answer')
  })

  it("leaves a run's own finished messages out of its prompt", async () => {
    const id = await thread(30)
    const cache = new PromptCache()
    await createRepos(storage.db).messages.insert(
      message(id, 310, { role: 'assistant', run_id: 'run_b' }),
      message(id, 320, { role: 'assistant', run_id: 'run_b' }),
      message(id, 330),
    )
    // cached with another run's view (every message counted), then used by run_b
    await same(id, cache)
    await same(id, cache)
    const { built } = await same(id, cache, { runId: 'run_b' })
    expect(texts(built)).not.toContain('310: ')
    expect(texts(built)).toContain('330: ')
    expect(texts((await same(id, cache, { runId: 'run_b', contextTokens: 60 })).built)).not.toContain('320: ')
  })

  it('has nothing for a thread deleted since', async () => {
    const id = await thread(10)
    const cache = new PromptCache()
    await same(id, cache)
    await other.transaction(async (tx) => {
      await createRepos(tx.db).messages.deleteThread(PROJECT, id)
      await createRepos(tx.db).threads.delete(PROJECT, id)
    })
    const { built } = await same(id, cache)
    expect(built.messages).toEqual([{ role: 'system', content: 'Be brief.' }])
    expect(cache.get(PROJECT, id)).toBeUndefined()
  })

  it('holds at most its bytes, least recently used out first', async () => {
    const [a, b] = [await thread(100), await thread(100)]
    const cache = new PromptCache(40_000)
    await same(a, cache)
    const one = cache.bytes
    expect(one).toBeGreaterThan(100 * 160)
    expect(one).toBeLessThanOrEqual(40_000)
    await same(b, cache)
    expect(cache.bytes).toBeLessThanOrEqual(40_000)
    expect(cache.get(PROJECT, a)).toBeUndefined()
    expect(cache.get(PROJECT, b)).toBeDefined()
    // a thread bigger than the whole cache is not kept, and still built right
    const small = new PromptCache(1_000)
    await same(a, small)
    expect(small.bytes).toBe(0)
  })

  it('shares no message a caller could change', async () => {
    const id = await thread(10)
    const cache = new PromptCache()
    await same(id, cache)
    const { built } = await same(id, cache)
    expect(() => {
      ;(built.messages[1] as { content: string }).content = 'changed'
    }).toThrow(TypeError)
  })
})
