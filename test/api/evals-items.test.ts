import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Items against the eval's item_schema (custom data source configs), and runs whose items are
// sampled several at a time: order, ids and counts.

const cases = storageCases()
if (cases.length === 1) skippedPgCase('eval items on PostgreSQL')

const config = {
  type: 'custom' as const,
  item_schema: {
    type: 'object',
    properties: { question: { type: 'string' }, expected: { type: 'string' }, rank: { type: 'integer' } },
    required: ['question', 'expected'],
  },
  include_sample_schema: true,
}
const check = { type: 'string_check' as const, name: 'eq', input: '{{sample.output_text}}', reference: '{{item.expected}}', operation: 'eq' as const }
const template = { type: 'template' as const, template: [{ role: 'user' as const, content: '{{item.question}}' }] }

describe.each(cases)('eval items on $name', ({ create }) => {
  let t: TestApp
  let client: OpenAI
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('eval-items')
    cleanup = made.cleanup
    t = await createTestApp({}, { storage: made.config })
    client = t.client()
    t.ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  async function waitFor(evalId: string, runId: string) {
    const deadline = Date.now() + 20_000
    for (;;) {
      const run = await client.evals.runs.retrieve(runId, { eval_id: evalId })
      if (['completed', 'failed', 'canceled'].includes(run.status)) return run
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  it('checks a pattern that backtracks catastrophically at once (the regexp guard), not for minutes on the event loop', async () => {
    const ev = await client.evals.create({
      data_source_config: { type: 'custom', item_schema: { type: 'object', properties: { question: { type: 'string', pattern: '^(a+)+$' } } } },
      testing_criteria: [check],
    })
    const started = Date.now()
    const source = { type: 'file_content' as const, content: [{ item: { question: 'a'.repeat(30) + '!' } }] }
    await expect(client.evals.runs.create(ev.id, { data_source: { type: 'completions', model: 'test-echo', input_messages: template, source } })).rejects.toMatchObject({
      status: 400,
      error: { code: 'invalid_item', message: `Item 0 does not match the eval's item_schema: /question must match pattern "^(a+)+$".` },
    })
    // unguarded, this one match takes over a minute
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('refuses inline items that do not match item_schema with a 400 naming the item and the violation', async () => {
    const ev = await client.evals.create({ data_source_config: config, testing_criteria: [check] })
    const content = [
      { item: { question: 'a', expected: 'a', rank: 1 } },
      { item: { question: 'b', expected: 'b', rank: 'second' } },
    ]
    const source = { type: 'file_content' as const, content }
    await expect(
      client.evals.runs.create(ev.id, { data_source: { type: 'completions', model: 'test-echo', input_messages: template, source } }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        type: 'invalid_request_error',
        message: "Item 1 does not match the eval's item_schema: /rank must be integer.",
        param: 'data_source.source.content[1].item',
        code: 'invalid_item',
      },
    })
    // a jsonl run too: a missing required property
    await expect(
      client.evals.runs.create(ev.id, {
        data_source: { type: 'jsonl', source: { type: 'file_content', content: [{ item: { question: 'q' }, sample: { output_text: 'q' } }] } },
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: "Item 0 does not match the eval's item_schema: the item must have required property 'expected'.", param: 'data_source.source.content[0].item' },
    })
    // nothing was made
    expect((await client.evals.runs.list(ev.id)).data).toEqual([])

    // matching items run; unknown keywords and formats are annotations
    const annotated = await client.evals.create({
      data_source_config: { type: 'custom', item_schema: { ...config.item_schema, 'x-note': 'n', properties: { ...config.item_schema.properties, question: { type: 'string', format: 'email' } } } },
      testing_criteria: [check],
    })
    const ok = await client.evals.runs.create(annotated.id, { data_source: { type: 'completions', model: 'test-echo', input_messages: template, source: { type: 'file_content', content: [content[0]] } } })
    expect(await waitFor(annotated.id, ok.id)).toMatchObject({ status: 'completed', result_counts: { total: 1, passed: 1 } })
  })

  it("fails a run whose file holds an item that does not match, before any model call", async () => {
    const ev = await client.evals.create({ data_source_config: config, testing_criteria: [check] })
    const lines = ['{"item": {"question": "a", "expected": "a"}}', '', '{"question": "b", "expected": "b"}', '{"item": {"question": "c", "expected": 3}}']
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'items.jsonl'), purpose: 'evals' })
    const run = await client.evals.runs.create(ev.id, {
      data_source: { type: 'completions', model: 'test-echo', input_messages: template, source: { type: 'file_id', id: file.id } },
    })
    expect(run.status).toBe('queued')
    const done = await waitFor(ev.id, run.id)
    // the third item (its index among the items, as datasource_item_id counts them), on line 4
    expect(done).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_item', message: `Item 2 (line 4 of file ${file.id}) does not match the eval's item_schema: /expected must be string.` },
      result_counts: { total: 0, passed: 0, failed: 0, errored: 0 },
      per_model_usage: [],
    })
    expect((await client.evals.runs.outputItems.list(run.id, { eval_id: ev.id })).data).toEqual([])
  })

  it('refuses a run of an eval whose item_schema is not JSON Schema, saying why', async () => {
    const ev = await client.evals.create({ data_source_config: { type: 'custom', item_schema: { type: 'object', properties: { a: { type: 'text' } } } }, testing_criteria: [check] })
    const file = await client.files.create({ file: await toFile(Buffer.from('{"a": "x"}\n'), 'a.jsonl'), purpose: 'evals' })
    for (const source of [{ type: 'file_content' as const, content: [{ item: { a: 'x' } }] }, { type: 'file_id' as const, id: file.id }]) {
      await expect(client.evals.runs.create(ev.id, { data_source: { type: 'jsonl', source } })).rejects.toMatchObject({
        status: 400,
        error: {
          message: expect.stringMatching(/^The eval's item_schema is not a valid JSON Schema: type must be JSONType or JSONType\[\]: text\.$/),
          param: 'data_source_config.item_schema',
          code: 'invalid_item_schema',
        },
      })
    }
  })

  it('samples items several at a time and keeps their order, ids and counts', async () => {
    const ev = await client.evals.create({ data_source_config: config, testing_criteria: [check] })
    // every third item fails its check
    const content = Array.from({ length: 13 }, (_, i) => ({ item: { question: `q${i}`, expected: i % 3 === 2 ? 'other' : `q${i}` } }))
    const run = await client.evals.runs.create(ev.id, {
      data_source: {
        type: 'completions',
        model: 'test-echo',
        input_messages: { type: 'template', template: [{ role: 'user', content: '{{item.question}}' }] },
        source: { type: 'file_content', content },
      },
    })
    const done = await waitFor(ev.id, run.id)
    expect(done).toMatchObject({ status: 'completed', result_counts: { total: 13, passed: 9, failed: 4, errored: 0 } })
    expect(done.per_model_usage![0]).toMatchObject({ model_name: 'test-echo', invocation_count: 13 })
    expect(done.per_testing_criteria_results).toEqual([{ testing_criteria: (ev.testing_criteria[0] as any).id, passed: 9, failed: 4 }])
    const items = []
    for await (const item of client.evals.runs.outputItems.list(run.id, { eval_id: ev.id, limit: 5 })) items.push(item)
    // listed by id, ascending: the source's order
    expect(items.map((o) => o.datasource_item_id)).toEqual(content.map((_, i) => i))
    expect(items.map((o) => (o.datasource_item as { question: string }).question)).toEqual(content.map((c) => c.item.question))
    expect(new Set(items.map((o) => o.id)).size).toBe(13)
    const desc = await client.evals.runs.outputItems.list(run.id, { eval_id: ev.id, order: 'desc', limit: 3 })
    expect(desc.data.map((o) => o.datasource_item_id)).toEqual([12, 11, 10])
  })
})
