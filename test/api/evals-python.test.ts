import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The python grader runs in the code interpreter's sandbox (docs/evals.md): skipped where the
// host cannot sandbox.

describeSandbox('evals: python grader', () => {
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0 }) })
    client = t.client()
    t.ctx.jobs.start()
  })
  afterAll(async () => t?.close())

  async function finished(evalId: string, runId: string) {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const run = await client.evals.runs.retrieve(runId, { eval_id: evalId })
      if (['completed', 'failed', 'canceled'].includes(run.status)) return run
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('run did not finish')
  }

  it('scores each item with grade(sample, item); a raising grader errors the item with its traceback', async () => {
    const source = [
      'def grade(sample, item):',
      '    if item.get("boom"):',
      '        raise ValueError("no score for this one")',
      '    return 1.0 if sample["output_text"] == item["expected"] else 0.25',
    ].join('\n')
    const ev = await client.evals.create({
      data_source_config: { type: 'custom', item_schema: { type: 'object' }, include_sample_schema: true },
      testing_criteria: [{ type: 'python', name: 'exact', source, pass_threshold: 0.5 }],
    })
    expect(ev.testing_criteria[0]).toMatchObject({ type: 'python', name: 'exact', source, pass_threshold: 0.5 })
    const run = await client.evals.runs.create(ev.id, {
      data_source: {
        type: 'completions',
        model: 'test-echo',
        input_messages: { type: 'template', template: [{ role: 'user', content: '{{item.q}}' }] },
        source: {
          type: 'file_content',
          content: [
            { item: { q: 'yes', expected: 'yes' } },
            { item: { q: 'no', expected: 'yes' } },
            { item: { q: 'no', expected: 'yes' } },
            { item: { q: 'x', expected: 'x', boom: true } },
            { item: { q: 'ok', expected: 'ok' } },
          ],
        },
      },
    })
    const done = await finished(ev.id, run.id)
    expect(done).toMatchObject({ status: 'completed', result_counts: { total: 5, passed: 2, failed: 2, errored: 1 } })
    const items = (await client.evals.runs.outputItems.list(run.id, { eval_id: ev.id })).data
    const byIndex = (i: number) => items.find((o) => o.datasource_item_id === i)!
    expect(byIndex(0).results[0]).toMatchObject({ type: 'python', passed: true, score: 1 })
    expect(byIndex(1).results[0]).toMatchObject({ type: 'python', passed: false, score: 0.25 })
    expect(byIndex(2).results[0]).toMatchObject({ passed: false, score: 0.25 })
    expect(byIndex(4).results[0]).toMatchObject({ passed: true, score: 1 })
    expect(byIndex(3).status).toBe('fail')
    expect(byIndex(3).results[0]).toMatchObject({
      passed: false,
      error: { code: 'python_grader_error', message: expect.stringContaining('no score for this one') },
    })
  })
})
