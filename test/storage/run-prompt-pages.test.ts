import type { KyselyPlugin, Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate, PROJECT } from '../../bench/scale-data.js'
import { countChatPromptTokens } from '../../src/domain/inference/tokens.js'
import { messageRecord, messageRow, type MessageRecord } from '../../src/domain/assistants/records.js'
import { buildPrompt, PROMPT_PAGE, type PromptInput } from '../../src/domain/assistants/run-prompt.js'
import { threadPages } from '../../src/domain/assistants/run-thread.js'
import type { ChatMessageParam } from '../../src/schemas/chat.js'
import type { TruncationStrategy } from '../../src/schemas/runs.js'
import { newId } from '../../src/storage/ids.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// A run's prompt reads the thread backwards, a page at a time, until the prompt is full, and
// counts each message once (run-prompt.ts): what it reads is measured in statements and rows.

const THREAD = 'thread_scale'

/** Counts the statements and the rows they return, by kind of statement. */
function counting(db: Kysely<any>) {
  const kinds = new Map<unknown, string>()
  const seen = { selects: 0, rows: 0, updates: 0 }
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      kinds.set(args.queryId, args.node.kind)
      return args.node
    },
    async transformResult(args) {
      const kind = kinds.get(args.queryId)
      if (kind === 'SelectQueryNode') {
        seen.selects++
        seen.rows += args.result.rows.length
      } else if (kind === 'UpdateQueryNode') seen.updates++
      return args.result
    },
  }
  return { db: db.withPlugin(plugin), seen }
}

const auto: TruncationStrategy = { type: 'auto', last_messages: null }

function prompt(db: Kysely<any>, threadId: string, over: Partial<PromptInput> = {}) {
  return buildPrompt({
    instructions: 'You are helpful.',
    thread: threadPages(createRepos(db), PROJECT, threadId),
    steps: [],
    ownMessages: new Map(),
    truncation: auto,
    maxPromptTokens: null,
    tools: [],
    ...over,
  })
}

/** The prompt as it was built before pages: the whole thread, re-counted per dropped message. */
function reference(thread: MessageRecord[], input: { instructions: string; truncation: TruncationStrategy; max: number | null; context?: number }) {
  const chat = (m: MessageRecord): ChatMessageParam => {
    const text = m.content.map((p) => (p.type === 'text' ? p.text.value : p.type === 'image_file' ? `[image file ${p.image_file.file_id}]` : '')).filter(Boolean).join('\n')
    if (m.role === 'assistant') return { role: 'assistant', content: text }
    const images = m.content.filter((p) => p.type === 'image_url')
    if (!images.length) return { role: 'user', content: text }
    return { role: 'user', content: [...(text ? [{ type: 'text', text }] : []), ...images.map((p) => ({ type: 'image_url', image_url: p.image_url }))] } as ChatMessageParam
  }
  let messages = thread.map(chat)
  if (input.truncation.type === 'last_messages' && input.truncation.last_messages) messages = messages.slice(-input.truncation.last_messages)
  const head: ChatMessageParam[] = input.instructions || !messages.length ? [{ role: 'system', content: input.instructions }] : []
  const count = () => countChatPromptTokens([...head, ...messages])
  const limit = Math.min(input.max ?? Infinity, input.context ?? Infinity)
  if (input.truncation.type === 'auto') while (count() > limit && messages.length > 1) messages = messages.slice(1)
  const tokens = count()
  return { messages: [...head, ...messages], tokens, fits: input.max === null || tokens <= input.max }
}

const cases = storageCases()
if (cases.length === 1) skippedPgCase('run prompt pages on PostgreSQL')

describe.each(cases)('run prompts in pages on $name', ({ create }) => {
  let storage: Storage
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('run-prompt-pages')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
    // a thread of 10,000 messages (bench/scale-data.ts): about 11 tokens each
    await generate(storage, { files: 1, completions: 1, messages: 10_000, batches: 1, usage: 1 })
  }, 120_000)
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  it('reads only the pages a full context needs, and counts each message once', async () => {
    const context = 2_000
    const first = counting(storage.db)
    const cold = await prompt(first.db, THREAD, { contextTokens: context })
    const kept = cold.messages.length - 1
    expect(cold.tokens).toBeLessThanOrEqual(context)
    // the one message more would not fit: the prompt is full, not cut short
    expect(cold.tokens + 11).toBeGreaterThan(context)
    expect(kept).toBeGreaterThan(100)
    expect(kept).toBeLessThan(300)
    // a first page, then one sized to the room left (and one more if that fell short)
    expect(first.seen.selects).toBeLessThanOrEqual(3)
    expect(first.seen.rows).toBeLessThanOrEqual(kept + 1 + 30)
    const pages = first.seen.selects
    // the first build counts the messages it read and stores them, one statement a page
    expect(first.seen.updates).toBe(pages)

    const second = counting(storage.db)
    const warm = await prompt(second.db, THREAD, { contextTokens: context })
    expect(warm).toEqual(cold)
    expect(second.seen.selects).toBe(pages)
    expect(second.seen.updates).toBe(0)
    // the newest message is the thread's last
    expect(warm.messages.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringContaining('message number 10000 ') })
  })

  it('last_messages reads the last N only', async () => {
    const { db, seen } = counting(storage.db)
    const built = await prompt(db, THREAD, { truncation: { type: 'last_messages', last_messages: 5 } })
    expect(built.messages).toHaveLength(6)
    expect(seen.selects).toBe(1)
    expect(seen.rows).toBe(5)
  })

  it('max_prompt_tokens bounds what auto reads as the context does', async () => {
    const { db, seen } = counting(storage.db)
    const built = await prompt(db, THREAD, { maxPromptTokens: 500, contextTokens: 128_000 })
    expect(built.fits).toBe(true)
    expect(built.tokens).toBeLessThanOrEqual(500)
    expect(seen.rows).toBeLessThanOrEqual(PROMPT_PAGE)
  })

  it('builds the same prompt as counting the whole thread, for every truncation', async () => {
    const repos = createRepos(storage.db)
    const threadId = newId('thread_')
    await repos.threads.insert({ id: threadId, project_id: PROJECT, created_at: 1, tool_resources: '{}', metadata: '{}', active_run_id: null })
    const words = ['alpha', 'beta gamma', 'a much longer sentence with several words in it', 'émoji 🎉 and ünïcode', '']
    const records: MessageRecord[] = []
    for (let i = 0; i < 230; i++) {
      const text = Array.from({ length: 1 + (i % 7) }, (_, k) => words[(i + k) % words.length]).join(' ')
      const content: MessageRecord['content'] = [{ type: 'text', text: { value: text, annotations: [] } }]
      if (i % 17 === 0) content.push({ type: 'image_file', image_file: { file_id: `file-${i}` } } as never)
      if (i % 23 === 0) content.push({ type: 'image_url', image_url: { url: 'https://example.com/a.png' } } as never)
      records.push({
        id: `msg_${String(i).padStart(8, '0')}`,
        projectId: PROJECT,
        threadId,
        createdAt: i,
        role: i % 3 === 2 ? 'assistant' : 'user',
        content,
        attachments: [],
        metadata: {},
        status: 'completed',
        incompleteDetails: null,
        completedAt: i,
        incompleteAt: null,
        assistantId: null,
        runId: null,
      })
    }
    await repos.messages.insert(...records.map(messageRow))
    const settings: { instructions: string; truncation: TruncationStrategy; max: number | null; context?: number }[] = [
      { instructions: 'Be brief.', truncation: auto, max: null },
      { instructions: '', truncation: auto, max: null, context: 700 },
      { instructions: 'Be brief.', truncation: auto, max: 1_000 },
      { instructions: 'Be brief.', truncation: auto, max: 1_000, context: 400 },
      { instructions: 'Be brief.', truncation: auto, max: 5 },
      { instructions: '', truncation: { type: 'last_messages', last_messages: 1 }, max: null },
      { instructions: 'Be brief.', truncation: { type: 'last_messages', last_messages: 150 }, max: null },
      { instructions: 'Be brief.', truncation: { type: 'last_messages', last_messages: 150 }, max: 300 },
      { instructions: 'Be brief.', truncation: { type: 'last_messages', last_messages: 1000 }, max: null, context: 50 },
    ]
    const stored = (await repos.messages.all(PROJECT, threadId)).map(messageRecord)
    // a limit the last 40 messages meet exactly: they all stay
    const exact = reference(stored, { instructions: 'Be brief.', truncation: { type: 'last_messages', last_messages: 40 }, max: null }).tokens
    settings.push({ instructions: 'Be brief.', truncation: auto, max: exact }, { instructions: 'Be brief.', truncation: auto, max: null, context: exact })
    for (const s of settings) {
      const expected = reference(stored, s)
      // twice: counting as it reads, then with the stored counts
      for (let pass = 0; pass < 2; pass++) {
        const built = await prompt(storage.db, threadId, { instructions: s.instructions, truncation: s.truncation, maxPromptTokens: s.max, contextTokens: s.context })
        expect(built, JSON.stringify(s)).toEqual(expected)
      }
      if (s.max === exact || s.context === exact) expect(expected.messages).toHaveLength(41)
    }
    // an empty thread without instructions: one empty system message
    const empty = newId('thread_')
    await repos.threads.insert({ id: empty, project_id: PROJECT, created_at: 1, tool_resources: '{}', metadata: '{}', active_run_id: null })
    expect(await prompt(storage.db, empty, { instructions: '' })).toEqual(reference([], { instructions: '', truncation: auto, max: null }))
  })

  it('new content is counted again', async () => {
    const repos = createRepos(storage.db)
    const [newest] = await repos.messages.newestBefore(PROJECT, THREAD, null, 1)
    expect(newest.token_count).not.toBeNull()
    const content = JSON.stringify([{ type: 'text', text: { value: 'a new text '.repeat(50), annotations: [] } }])
    await repos.messages.update(PROJECT, THREAD, newest.id, { content })
    expect((await repos.messages.get(PROJECT, THREAD, newest.id))!.token_count).toBeNull()
    await repos.messages.update(PROJECT, THREAD, newest.id, { metadata: '{"k":"v"}' })
    const built = await prompt(storage.db, THREAD, { truncation: { type: 'last_messages', last_messages: 1 } })
    expect(built.tokens).toBe(countChatPromptTokens(built.messages))
    expect((await repos.messages.get(PROJECT, THREAD, newest.id))!.token_count).toBe(built.tokens - countChatPromptTokens(built.messages.slice(0, 1)))
  })
})
