import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installFakeTrainer } from '../helpers/fake-trainer.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// The fine-tuning API through the official SDK, on the test models with a test-only trainer
// (test/helpers/fake-trainer.ts); every response is validated against the spec.

let t: TestApp
let client: OpenAI
let trainer: ReturnType<typeof installFakeTrainer>
beforeAll(async () => {
  t = await createTestApp({ pricing: { models: { 'test-echo': { training: 8_000_000 } } } })
  client = t.client()
  trainer = installFakeTrainer(t.ctx.providers.resolve('test-echo').provider, { stepMs: 5 })
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

const example = (i: number) => ({
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: `What is ${i} + ${i}?` },
    { role: 'assistant', content: `${2 * i}` },
  ],
})

async function upload(lines: unknown[], purpose: 'fine-tune' | 'batch' = 'fine-tune') {
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n'
  return client.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl'), purpose })
}

async function waitFor(id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = await client.fineTuning.jobs.retrieve(id)
    if (statuses.includes(job.status)) return job
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const twenty = Array.from({ length: 20 }, (_, i) => example(i))

describe('fine-tuning jobs', () => {
  it('trains, reports events, checkpoints and a result file, and serves the model to its project', async () => {
    const file = await upload(twenty)
    const created = await client.fineTuning.jobs.create({
      model: 'test-echo',
      training_file: file.id,
      suffix: 'adder',
      seed: 7,
      metadata: { team: 'math' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } },
    })
    expect(created).toMatchObject({
      object: 'fine_tuning.job',
      model: 'test-echo',
      status: 'validating_files',
      training_file: file.id,
      validation_file: null,
      fine_tuned_model: null,
      trained_tokens: null,
      seed: 7,
      metadata: { team: 'math' },
      result_files: [],
      error: null,
      organization_id: t.ctx.organization.id,
      hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 'auto' },
    })
    expect(created.id).toMatch(/^ftjob-/)
    const done = await waitFor(created.id, ['succeeded', 'failed'])
    expect(done.error).toBeNull()
    expect(done.status).toBe('succeeded')
    // 'auto' resolved as OpenAI does: 20 examples → batch 1 (0.2%), epochs as asked
    expect(done.hyperparameters).toEqual({ n_epochs: 3, batch_size: 1, learning_rate_multiplier: 1 })
    expect(done.method).toEqual({ type: 'supervised', supervised: { hyperparameters: done.hyperparameters } })
    expect(done.trained_tokens).toBe(20 * 10 * 3)
    expect(done.finished_at).toBeGreaterThanOrEqual(done.created_at)
    expect(done.estimated_finish).toBeNull()
    expect(done.fine_tuned_model).toBe(`ft:test-echo:${slug()}:adder:${done.id.slice(-8)}`)
    expect(trainer.calls.at(-1)).toMatchObject({ seed: 7, hyperparameters: { nEpochs: 3, batchSize: 1, learningRateMultiplier: 1 } })
    expect(trainer.calls.at(-1)!.training).toHaveLength(20)

    // events: newest first, paginated
    const events = await client.fineTuning.jobs.listEvents(done.id, { limit: 100 })
    const messages = events.data.map((e) => e.message)
    expect(messages[0]).toBe('The job has successfully completed')
    expect(messages[1]).toBe(`New fine-tuned model created: ${done.fine_tuned_model}`)
    expect(messages.at(-1)).toBe(`Created fine-tuning job: ${done.id}`)
    const metrics = events.data.filter((e) => e.type === 'metrics')
    expect(metrics).toHaveLength(60)
    expect(metrics[0].data).toMatchObject({ step: 60, total_steps: 60, train_loss: 3 / 60 })
    const ids = events.data.map((e) => e.id)
    expect([...ids].sort().reverse()).toEqual(ids)
    const page1 = await client.fineTuning.jobs.listEvents(done.id, { limit: 2 })
    expect(page1.data.map((e) => e.id)).toEqual(ids.slice(0, 2))
    expect(page1.has_more).toBe(true)
    const page2 = await client.fineTuning.jobs.listEvents(done.id, { limit: 2, after: ids[1] })
    expect(page2.data.map((e) => e.id)).toEqual(ids.slice(2, 4))

    // a checkpoint per epoch, newest first, each servable
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(done.id)
    expect(checkpoints.data.map((c) => c.step_number)).toEqual([60, 40, 20])
    expect(checkpoints.data[2]).toMatchObject({
      object: 'fine_tuning.job.checkpoint',
      fine_tuning_job_id: done.id,
      fine_tuned_model_checkpoint: `${done.fine_tuned_model}:ckpt-step-20`,
      metrics: { step: 20, train_loss: 3 / 20 },
    })
    expect(checkpoints.data[0].id).toMatch(/^ftckpt_/)

    // the result file: OpenAI's step metrics CSV
    expect(done.result_files).toHaveLength(1)
    const info = await client.files.retrieve(done.result_files[0])
    expect(info.purpose).toBe('fine-tune-results')
    const csv = (await (await client.files.content(done.result_files[0])).text()).trim().split('\n')
    expect(csv[0]).toBe('step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy')
    expect(csv).toHaveLength(61)
    expect(csv[1]).toBe('1,3,,,')

    // served: the model list shows it to this project, owned by the organization; it answers
    const models = await client.models.list()
    const mine = models.data.find((m) => m.id === done.fine_tuned_model)
    expect(mine).toMatchObject({ object: 'model', owned_by: t.ctx.organization.id })
    expect(models.data.some((m) => m.id === checkpoints.data[2].fine_tuned_model_checkpoint)).toBe(true)
    const answer = await client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'hi there' }] })
    expect(answer.model).toBe(done.fine_tuned_model)
    expect(trainer.adapters.get(done.fine_tuned_model!)).toMatchObject({ base: 'test-echo' })

    // another project sees neither the job nor the model
    const other = await otherProjectClient(t)
    await expect(other.fineTuning.jobs.retrieve(done.id)).rejects.toMatchObject({ status: 404 })
    expect((await other.fineTuning.jobs.list()).data).toHaveLength(0)
    expect((await other.models.list()).data.some((m) => m.id === done.fine_tuned_model)).toBe(false)
    await expect(
      other.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    await expect(other.models.delete(done.fine_tuned_model!)).rejects.toMatchObject({ status: 404 })

    // checkpoint permissions: admin keys only (a project key misses the scope: 401); a granted
    // project may use the model, not delete it
    await expect(
      t.client(undefined, { adminAPIKey: (client as any).apiKey }).fineTuning.checkpoints.permissions.create(done.fine_tuned_model!, { project_ids: ['proj_x'] }),
    ).rejects.toMatchObject({ status: 401 })
    const admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY })
    const otherProject = (await admin.get('/organization/projects', { query: { limit: 100 } }) as any).data.find((p: any) => p.name === 'Other project')
    const granted = await admin.fineTuning.checkpoints.permissions.create(done.fine_tuned_model!, { project_ids: [otherProject.id] })
    expect(granted.data).toHaveLength(1)
    expect(granted.data[0]).toMatchObject({ object: 'checkpoint.permission', project_id: otherProject.id })
    expect(granted.data[0].id).toMatch(/^cp_/)
    const listed = await admin.fineTuning.checkpoints.permissions.retrieve(done.fine_tuned_model!)
    expect(listed.data.map((p) => p.id)).toEqual([granted.data[0].id])
    expect((await other.models.list()).data.some((m) => m.id === done.fine_tuned_model)).toBe(true)
    await other.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'x' }] })
    await expect(other.models.delete(done.fine_tuned_model!)).rejects.toMatchObject({ status: 403 })
    const audit = await admin.get('/organization/audit_logs', { query: { 'event_types[]': 'checkpoint_permission.created' } }) as any
    expect(audit.data[0]['checkpoint_permission.created']).toMatchObject({ id: granted.data[0].id, data: { project_id: otherProject.id, fine_tuned_model_checkpoint: done.fine_tuned_model } })
    const removed = await admin.fineTuning.checkpoints.permissions.delete(granted.data[0].id, { fine_tuned_model_checkpoint: done.fine_tuned_model! })
    expect(removed).toEqual({ object: 'checkpoint.permission', id: granted.data[0].id, deleted: true })
    expect((await other.models.list()).data.some((m) => m.id === done.fine_tuned_model)).toBe(false)
    await expect(admin.fineTuning.checkpoints.permissions.retrieve('ft:nothing:here::abc')).rejects.toMatchObject({ status: 404 })

    // usage: the trained tokens, priced at the model's training price
    const usage = await admin.get('/organization/costs', { query: { start_time: done.created_at - 86400, group_by: ['line_item'] } }) as any
    const items = usage.data.flatMap((b: any) => b.results)
    expect(items).toContainEqual(expect.objectContaining({ line_item: 'test-echo, training', amount: { value: 600 * 8, currency: 'usd' } }))

    // audit: creation recorded, shown only when asked for by type
    const rows = await t.ctx.storage.db.selectFrom('audit_logs').selectAll().where('resource_id', '=', done.id).execute()
    expect(rows.map((r) => r.type)).toEqual(['fine_tuning.job.created'])
    const all = await admin.get('/organization/audit_logs', { query: { limit: 100 } }) as any
    expect(all.data.some((e: any) => e.type === 'fine_tuning.job.created')).toBe(false)

    // deleting the model: OpenAI's shape, and it is gone
    const deleted = await client.models.delete(done.fine_tuned_model!)
    expect(deleted).toEqual({ id: done.fine_tuned_model, object: 'model', deleted: true })
    expect((await client.models.list()).data.some((m) => m.id === done.fine_tuned_model)).toBe(false)
    await expect(
      client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 })
    expect(trainer.adapters.has(done.fine_tuned_model!)).toBe(false)
  }, 60_000)

  it('lists jobs newest first with after/limit and a metadata filter', async () => {
    const file = await upload(twenty)
    const a = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, metadata: { k: 'a' } })
    const b = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, metadata: { k: 'b' } })
    await client.fineTuning.jobs.cancel(a.id)
    await client.fineTuning.jobs.cancel(b.id)
    const page = await client.fineTuning.jobs.list({ limit: 1 })
    expect(page.data.map((j) => j.id)).toEqual([b.id])
    expect(page.has_more).toBe(true)
    const next = await client.fineTuning.jobs.list({ limit: 1, after: b.id })
    expect(next.data.map((j) => j.id)).toEqual([a.id])
    const filtered = await client.fineTuning.jobs.list({ metadata: { k: 'a' } })
    expect(filtered.data.map((j) => j.id)).toEqual([a.id])
  })

  it('cancels a running job within a second; the job ends cancelled and stays so', async () => {
    const file = await upload(twenty)
    const slow = installFakeTrainer(t.ctx.providers.resolve('test-echo').provider, { stepMs: 200 })
    try {
      const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, hyperparameters: { n_epochs: 5 } })
      await waitFor(job.id, ['running'])
      const events = async () => (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
      const deadline = Date.now() + 10_000
      while (!(await events()).some((e) => e.type === 'metrics') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      const cancelled = await client.fineTuning.jobs.cancel(job.id)
      const at = Date.now()
      expect(cancelled.status).toBe('cancelled')
      expect(cancelled.fine_tuned_model).toBeNull()
      // the trainer stops: its signal is aborted at once
      const call = slow.calls.at(-1)!
      while (!call.signal.aborted && Date.now() - at < 1000) await new Promise((r) => setTimeout(r, 10))
      expect(call.signal.aborted).toBe(true)
      await new Promise((r) => setTimeout(r, 500))
      const after = await client.fineTuning.jobs.retrieve(job.id)
      expect(after.status).toBe('cancelled')
      expect(after.finished_at).not.toBeNull()
      await expect(client.fineTuning.jobs.cancel(job.id)).resolves.toMatchObject({ status: 'cancelled' })
    } finally {
      trainer = installFakeTrainer(t.ctx.providers.resolve('test-echo').provider, { stepMs: 5 })
    }
  }, 30_000)

  it('reports a validation loss with a validation file', async () => {
    const train = await upload(twenty)
    const valid = await upload(twenty.slice(0, 3))
    const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: train.id, validation_file: valid.id, hyperparameters: { n_epochs: 1, batch_size: 10 } })
    const done = await waitFor(job.id, ['succeeded', 'failed'])
    expect(done.status).toBe('succeeded')
    expect(done.validation_file).toBe(valid.id)
    const metrics = (await client.fineTuning.jobs.listEvents(done.id, { limit: 100 })).data.filter((e) => e.type === 'metrics')
    expect(metrics[0].data).toMatchObject({ step: 2, valid_loss: (3 / 2) * 1.1 })
  })
})

describe('fine-tuning: refusals at create', () => {
  it('needs a file of the project with purpose fine-tune', async () => {
    await expect(client.fineTuning.jobs.create({ model: 'test-echo', training_file: 'file-nope' })).rejects.toMatchObject({
      status: 400,
      error: { message: 'invalid training_file: file-nope', param: 'training_file' },
    })
    const batch = await upload(twenty, 'batch')
    await expect(client.fineTuning.jobs.create({ model: 'test-echo', training_file: batch.id })).rejects.toMatchObject({
      status: 400,
      param: 'training_file',
      code: 'invalid_value',
    })
    const other = await otherProjectClient(t)
    const mine = await upload(twenty)
    await expect(other.fineTuning.jobs.create({ model: 'test-echo', training_file: mine.id })).rejects.toMatchObject({ status: 400, param: 'training_file' })
  })

  it('refuses models that cannot train here, other methods, integrations and bad suffixes', async () => {
    const file = await upload(twenty)
    await expect(client.fineTuning.jobs.create({ model: 'gpt-nothing', training_file: file.id })).rejects.toMatchObject({
      status: 400,
      error: { message: 'Model gpt-nothing is not available for fine-tuning or does not exist.', param: 'model', code: 'model_not_available' },
    })
    await expect(client.fineTuning.jobs.create({ model: 'test-embed', training_file: file.id })).rejects.toMatchObject({
      status: 400,
      error: { message: 'Model test-embed is not available for fine-tuning: an embedding model cannot be fine-tuned.', param: 'model' },
    })
    await expect(
      client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } } }),
    ).rejects.toMatchObject({ status: 400, param: 'method.type' })
    await expect(
      client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, integrations: [{ type: 'wandb', wandb: { project: 'p' } }] }),
    ).rejects.toMatchObject({ status: 400, param: 'integrations' })
    await expect(client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, suffix: 'a:b' })).rejects.toMatchObject({ status: 400, param: 'suffix' })
    await expect(client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, suffix: 'x'.repeat(65) })).rejects.toMatchObject({ status: 400 })
    await expect(
      client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, hyperparameters: { n_epochs: 51 } }),
    ).rejects.toMatchObject({ status: 400 })
    await expect(
      client.fineTuning.jobs.create({
        model: 'test-echo',
        training_file: file.id,
        hyperparameters: { n_epochs: 2 },
        method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } },
      }),
    ).rejects.toMatchObject({ status: 400, param: 'hyperparameters' })
    await expect(client.fineTuning.jobs.retrieve('ftjob-nope')).rejects.toMatchObject({ status: 404 })
  })

  it('accepts the legacy top-level hyperparameters and reports them', async () => {
    const file = await upload(twenty)
    const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 } })
    expect(job.hyperparameters).toEqual({ n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 })
    const done = await waitFor(job.id, ['succeeded', 'failed'])
    expect(done.hyperparameters).toEqual({ n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 })
    expect(trainer.calls.at(-1)!.hyperparameters).toEqual({ nEpochs: 2, batchSize: 4, learningRateMultiplier: 0.5 })
  })
})

describe('fine-tuning: a bad training file fails the job, naming the line', () => {
  const bad: [string, unknown, RegExp, string?][] = [
    ['not JSON', '{"messages": [', /Example 3 is not valid JSON\./],
    ['no messages key', { prompt: 'a', completion: 'b' }, /Example 3 uses the prompt\/completion format/],
    ['unknown role', { messages: [{ role: 'robot', content: 'x' }, { role: 'assistant', content: 'y' }] }, /Example 3, message 1 has an unrecognized role 'robot'\./],
    ['no assistant', { messages: [{ role: 'user', content: 'x' }] }, /Example 3 has no assistant message/],
    ['weight on user', { messages: [{ role: 'user', content: 'x', weight: 1 }, { role: 'assistant', content: 'y' }] }, /Example 3, message 1: 'weight' is only allowed on assistant messages\./],
    ['weight 2', { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y', weight: 2 }] }, /Example 3, message 2: 'weight' must be 0 or 1\./],
    ['bad tool arguments', { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{nope' } }] }] }, /Example 3, message 2, tool call 1: the function's 'arguments' are not valid JSON\./],
    ['tool without call', { messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'zz', content: 'r' }, { role: 'assistant', content: 'y' }] }, /Example 3, message 2: a tool message must answer a tool call/],
    ['unknown key', { messages: [{ role: 'user', content: 'x', mood: 'happy' }, { role: 'assistant', content: 'y' }] }, /Example 3, message 1 has an unrecognized key 'mood'\./],
    ['too long', { messages: [{ role: 'user', content: 'word '.repeat(5000) }, { role: 'assistant', content: 'y' }] }, /Example 3 has \d+ tokens, more than the 4096 tokens the model's context holds\./],
  ]
  for (const [name, line, message] of bad) {
    it(name, async () => {
      const lines = [...twenty.slice(0, 2), line, ...twenty.slice(2)]
      const file = await upload(lines)
      const before = trainer.calls.length
      const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id })
      const done = await waitFor(job.id, ['failed', 'succeeded'])
      expect(done.status).toBe('failed')
      expect(done.error).toMatchObject({ code: 'invalid_training_file', param: 'training_file' })
      expect(done.error!.message).toMatch(/^The job failed due to a file format error in the training file\. Invalid file format\. /)
      expect(done.error!.message).toMatch(message)
      expect(trainer.calls.length).toBe(before)
      const events = await client.fineTuning.jobs.listEvents(done.id)
      expect(events.data[0]).toMatchObject({ level: 'error', message: done.error!.message })
    })
  }

  it('too few examples', async () => {
    const file = await upload(twenty.slice(0, 3))
    const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id })
    const done = await waitFor(job.id, ['failed', 'succeeded'])
    expect(done.error).toEqual({ code: 'invalid_n_examples', param: 'training_file', message: 'Training file has 3 example(s), but must have at least 10 examples' })
  })
})

function slug() {
  return t.ctx.organization.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'personal'
}
