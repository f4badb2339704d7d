import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_LIMITS } from '../../src/providers/test/index.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// truncation_strategy `auto` as OpenAI documents it: the oldest messages are dropped to fit the
// model's context and max_prompt_tokens (docs/assistants.md, "The prompt").

const poll = { pollIntervalMs: 20 }
const cases = storageCases()
if (cases.length === 1) skippedPgCase('run truncation on PostgreSQL')

describe.each(cases)('run truncation on $name', ({ create }) => {
  let t: TestApp
  let client: OpenAI
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('run-truncation')
    cleanup = made.cleanup
    t = await createTestApp({}, { storage: made.config })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  it('auto fits a thread longer than the context into it, keeping the newest messages', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', instructions: 'Be brief.' })
    // 3 x 50,000 tokens and a question: past the 128k context of the test models
    const long = 'word '.repeat(50_000)
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: long }, { role: 'user', content: long }, { role: 'user', content: long }, { role: 'user', content: 'hello there' }],
    })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.last_error).toBeNull()
    expect(run.status).toBe('completed')
    // the two newest long messages fit, the oldest does not
    expect(run.usage!.prompt_tokens).toBeGreaterThan(100_000)
    expect(run.usage!.prompt_tokens).toBeLessThan(TEST_LIMITS.chat.contextLength)
  }, 60_000)

  it('auto drops the oldest messages until max_prompt_tokens fits', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', instructions: 'Be brief.' })
    const messages = Array.from({ length: 12 }, (_, i) => ({ role: 'user' as const, content: `message ${i}: ${'some more words '.repeat(15)}` }))
    const thread = await client.beta.threads.create({ messages: [...messages, { role: 'user', content: 'hello there' }] })
    const whole = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(whole.usage!.prompt_tokens).toBeGreaterThan(600)
    const cut = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, max_prompt_tokens: 300 }, poll)
    expect(cut.status).toBe('completed')
    expect(cut.usage!.prompt_tokens).toBeLessThanOrEqual(300)
    // full: one more message (about 65 tokens) would not have fit
    expect(cut.usage!.prompt_tokens).toBeGreaterThan(300 - 70)
    // last_messages keeps exactly the last N, whatever they count
    const last = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, truncation_strategy: { type: 'last_messages', last_messages: 1 } }, poll)
    expect(last.status).toBe('completed')
    expect(last.usage!.prompt_tokens).toBeLessThan(40)
  })
})
