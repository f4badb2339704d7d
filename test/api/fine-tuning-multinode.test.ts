import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { installFakeTrainer } from '../helpers/fake-trainer.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Two nodes on one PostgreSQL schema (two contexts in this process, each with its own registry and
// change listener): a fine-tuning job that finishes on node A is served by node B, and a model
// deleted through node A is gone from node B, told by the change feed's `models` topic.

/** Polls until `check` holds; the ms it took. */
async function msUntil(check: () => Promise<boolean>, giveUpMs = 5000): Promise<number> {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > giveUpMs) throw new Error(`not seen within ${giveUpMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
  return performance.now() - t0
}

describePg('fine-tuned models on two nodes (PostgreSQL)', () => {
  let schema: PgSchema
  let a: TestApp
  let b: TestApp
  let clientA: OpenAI
  let clientB: OpenAI
  beforeAll(async () => {
    schema = withPgSchema('ft multinode')
    a = await createTestApp({}, { storage: schema.config })
    b = await createTestApp({}, { storage: schema.config })
    // node B can serve adapters (the fake trainer's), but trains nothing: its runner is off
    for (const node of [a, b]) installFakeTrainer(node.ctx.providers.resolve('test-echo').provider, { stepMs: 2 })
    a.ctx.jobs.start()
    clientA = a.client()
    clientB = b.client()
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
    await schema?.drop()
  })

  const served = (client: OpenAI, model: string) => async () => (await client.models.list()).data.some((m) => m.id === model)

  it('a job finished on node A is served on node B; a model deleted on A is gone from B', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `${i}?` }, { role: 'assistant', content: `${i}` }] }))
    const file = await clientA.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await clientA.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, suffix: 'nodes' })
    let done = job
    await msUntil(async () => {
      done = await clientA.fineTuning.jobs.retrieve(job.id)
      return ['succeeded', 'failed', 'cancelled'].includes(done.status)
    }, 30_000)
    expect(done.status).toBe('succeeded')
    const model = done.fine_tuned_model!
    const checkpoint = (await clientA.fineTuning.jobs.checkpoints.list(job.id)).data[0].fine_tuned_model_checkpoint
    // B has not restarted: it serves the model because it was told
    const ms = await msUntil(served(clientB, model), 2000)
    console.info(`fine-tuned model served on node B ${Math.round(ms)} ms after the job succeeded on A`)
    expect(await served(clientB, checkpoint)()).toBe(true)
    const answer = await clientB.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.model).toBe(model)

    await clientA.models.delete(model)
    await msUntil(async () => !(await served(clientB, model)()), 2000)
    await expect(clientB.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
  }, 60_000)
})
