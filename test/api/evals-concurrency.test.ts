import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EvalRunExecutor } from '../../src/domain/evals/run.js'
import type { ChatService } from '../../src/domain/inference/chat.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// An eval run's items in flight at once (evals.concurrency): the bound, the order and counts of
// what is written, a cancel that stops every call in flight, and a retried job that bills each
// item once. The job is played here (no job runner) with the chat service wrapped to watch it.

const cases = storageCases()
if (cases.length === 1) skippedPgCase('eval run concurrency on PostgreSQL')

const config = { type: 'custom' as const, item_schema: { type: 'object' }, include_sample_schema: true }
const check = { type: 'string_check' as const, name: 'eq', input: '{{sample.output_text}}', reference: '{{item.expected}}', operation: 'eq' as const }

/** The chat service, each call held `delay` ms (or until aborted), counting the calls in flight. */
function watched(chat: ChatService, delay: (n: number) => number | 'forever') {
  const state = { inFlight: 0, max: 0, started: 0 }
  const create: ChatService['create'] = async (principal, params, options) => {
    const n = state.started++
    state.inFlight++
    state.max = Math.max(state.max, state.inFlight)
    try {
      const ms = delay(n)
      await sleep(ms === 'forever' ? 3_600_000 : ms, undefined, { signal: options?.signal })
      return await chat.create(principal, params, options)
    } finally {
      state.inFlight--
    }
  }
  return { state, chat: { create } }
}

describe.each(cases)('eval run concurrency on $name', ({ create }) => {
  let t: TestApp
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('eval-concurrency')
    cleanup = made.cleanup
    t = await createTestApp({}, { storage: made.config })
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  const billed = async () => {
    await t.ctx.services.usage.flush()
    const row = await t.ctx.storage.db
      .selectFrom('usage_records')
      .select((eb) => eb.fn.sum<number>('requests').as('n'))
      .where('model', '=', 'test-echo')
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async function newRun(count: number) {
    const c = t.client()
    const ev = await c.evals.create({ data_source_config: config, testing_criteria: [check] })
    const content = Array.from({ length: count }, (_, i) => ({ item: { question: `q${i}`, expected: i % 4 === 3 ? 'no' : `q${i}` } }))
    const run = await c.evals.runs.create(ev.id, {
      data_source: {
        type: 'completions',
        model: 'test-echo',
        input_messages: { type: 'template', template: [{ role: 'user', content: '{{item.question}}' }] },
        source: { type: 'file_content', content },
      },
    })
    const payload = { runId: run.id, evalId: ev.id, projectId: t.ctx.bootstrap.created!.project.id }
    const outputs = async () => {
      const all = []
      for await (const item of c.evals.runs.outputItems.list(run.id, { eval_id: ev.id, limit: 100 })) all.push(item)
      return all
    }
    return { c, ev, run, payload, outputs, retrieve: () => c.evals.runs.retrieve(run.id, { eval_id: ev.id }) }
  }

  it('keeps at most evals.concurrency items in flight, and writes them in source order with exact counts', async () => {
    const { payload, outputs, retrieve } = await newRun(12)
    // later items answer sooner: without the window's order they would be written first
    const { state, chat } = watched(t.ctx.services.chat, (n) => 40 - 3 * (n % 4))
    const executor = new EvalRunExecutor({ storage: t.ctx.storage, files: t.ctx.services.files, chat, concurrency: 3 })
    const before = await billed()
    await executor.run(payload, { signal: new AbortController().signal, lastAttempt: false })
    expect(state.max).toBe(3)
    expect(await retrieve()).toMatchObject({ status: 'completed', result_counts: { total: 12, passed: 9, failed: 3, errored: 0 } })
    const items = await outputs()
    expect(items.map((o) => o.datasource_item_id)).toEqual([...Array(12).keys()])
    expect(items.filter((o) => o.status === 'fail').map((o) => o.datasource_item_id)).toEqual([3, 7, 11])
    expect(await billed()).toBe(before + 12)
  })

  it('stops every call in flight at once when the job is stopped, writing and billing nothing of them', async () => {
    const { payload, outputs, retrieve } = await newRun(10)
    const { state, chat } = watched(t.ctx.services.chat, () => 'forever')
    const executor = new EvalRunExecutor({ storage: t.ctx.storage, files: t.ctx.services.files, chat, concurrency: 4 })
    const before = await billed()
    const stop = new AbortController()
    const running = executor.run(payload, { signal: stop.signal, lastAttempt: false })
    while (state.inFlight < 4) await sleep(5)
    await sleep(20)
    expect(state.started).toBe(4)
    const stopped = performance.now()
    stop.abort()
    await expect(running).rejects.toThrow()
    expect(performance.now() - stopped).toBeLessThan(200)
    expect(state.inFlight).toBe(0)
    expect(await outputs()).toEqual([])
    expect(await billed()).toBe(before)
    expect((await retrieve()).status).toBe('in_progress')
  })

  it('bills each item once when a stopped job runs again, and ends with exact counts', async () => {
    const { payload, outputs, retrieve } = await newRun(10)
    const before = await billed()
    // the first attempt stops while items 5 and on are in flight
    const stop = new AbortController()
    const first = watched(t.ctx.services.chat, (n) => (n < 5 ? 1 : 'forever'))
    const attempt = new EvalRunExecutor({ storage: t.ctx.storage, files: t.ctx.services.files, chat: first.chat, concurrency: 4 })
    const running = attempt.run(payload, { signal: stop.signal, lastAttempt: false })
    while ((await outputs()).length < 5) await sleep(10)
    stop.abort()
    await expect(running).rejects.toThrow()
    expect(await billed()).toBe(before + 5)

    const second = watched(t.ctx.services.chat, () => 1)
    const again = new EvalRunExecutor({ storage: t.ctx.storage, files: t.ctx.services.files, chat: second.chat, concurrency: 4 })
    await again.run(payload, { signal: new AbortController().signal, lastAttempt: false })
    expect(second.state.started).toBe(5)
    const done = await retrieve()
    expect(done).toMatchObject({ status: 'completed', result_counts: { total: 10, passed: 8, failed: 2, errored: 0 } })
    expect(done.per_model_usage![0]).toMatchObject({ model_name: 'test-echo', invocation_count: 10 })
    expect((await outputs()).map((o) => o.datasource_item_id)).toEqual([...Array(10).keys()])
    expect(await billed()).toBe(before + 10)
  })
})
