import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeFineTuningUpstream } from '../helpers/fake-fine-tuning-upstream.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// A model of an upstream configured with `fineTuning: true`: the job is created there (the
// training file uploaded first), mirrored by polling, and its model served through the upstream.

let t: TestApp
let up: Awaited<ReturnType<typeof startFakeFineTuningUpstream>>
beforeAll(async () => {
  up = await startFakeFineTuningUpstream()
  t = await createTestApp({
    upstreams: [{ id: 'tuner', baseURL: up.baseURL, fineTuning: true, fineTuningPollMs: 20 }],
    models: [{ id: 'remote-mini', provider: 'openai-compatible', upstream: 'tuner', upstreamModel: 'gpt-4o-mini-2024-07-18' }],
  })
  t.ctx.jobs.start()
})
afterAll(async () => {
  await t.close()
  await up.close()
})

const lines = Array.from({ length: 10 }, (_, i) =>
  JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }] }),
).join('\n')

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('fine-tuning on an upstream', () => {
  it('creates the job upstream, mirrors status, events and checkpoints, and serves the model', async () => {
    const client = t.client()
    const file = await client.files.create({ file: await toFile(Buffer.from(lines), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'remote-mini', training_file: file.id, suffix: 'up', seed: 3 })
    const remote = await until(async () => [...up.jobs.values()][0], (j) => j !== undefined)
    expect(remote.body).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', suffix: 'up', seed: 3, method: { type: 'supervised' } })
    expect(up.files.get(remote.training_file)?.purpose).toBe('fine-tune')
    expect(up.files.get(remote.training_file)!.bytes.includes(Buffer.from('"q9"'))).toBe(true)

    up.advance()
    await until(() => client.fineTuning.jobs.retrieve(job.id), (j) => j.status === 'queued')
    up.advance()
    const running = await until(() => client.fineTuning.jobs.retrieve(job.id), (j) => j.status === 'running')
    // the upstream's resolved hyperparameters are mirrored
    expect(running.hyperparameters).toEqual({ n_epochs: 2, batch_size: 1, learning_rate_multiplier: 1.8 })
    const checkpoints = await until(() => client.fineTuning.jobs.checkpoints.list(job.id), (p) => p.data.length === 1)
    expect(checkpoints.data[0]).toMatchObject({ step_number: 1, fine_tuning_job_id: job.id, metrics: { step: 1, train_loss: 1.5 } })
    const ckptName = checkpoints.data[0].fine_tuned_model_checkpoint
    expect(ckptName).toMatch(new RegExp(`^ft:remote-mini:.*:up:${job.id.slice(-8)}:ckpt-step-1$`))
    up.advance()
    const done = await until(() => client.fineTuning.jobs.retrieve(job.id), (j) => j.status === 'succeeded')
    expect(done.trained_tokens).toBe(1234)
    expect(done.fine_tuned_model).toMatch(/^ft:remote-mini:.*:up:/)
    expect(done.result_files).toHaveLength(1)
    const events = (await client.fineTuning.jobs.listEvents(job.id, { limit: 50 })).data.map((e) => e.message)
    expect(events).toContain('Step 2/2: training loss=0.5')
    expect(events).toContain(`Created fine-tuning job: ${remote.id}`)
    expect(events.filter((m) => m === 'Step 1/2: training loss=1.5')).toHaveLength(1)

    // served through the upstream, under the upstream's name there
    const answer = await client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.choices[0].message.content).toBe('tuned answer')
    expect(answer.model).toBe(done.fine_tuned_model)
    expect(up.chats.at(-1)).toEqual({ model: 'ft:gpt-4o-mini-2024-07-18:up-org::abc' })
    await client.chat.completions.create({ model: ckptName, messages: [{ role: 'user', content: 'hi' }] })
    expect(up.chats.at(-1)).toEqual({ model: 'ft:gpt-4o-mini-2024-07-18:up-org::abc:ckpt-step-1' })
    const other = await otherProjectClient(t)
    expect((await other.models.list()).data.some((m) => m.id === done.fine_tuned_model)).toBe(false)

    // deleting it deletes it upstream too
    await expect(client.models.delete(done.fine_tuned_model!)).resolves.toMatchObject({ deleted: true })
    expect(up.deletedModels).toEqual(['ft:gpt-4o-mini-2024-07-18:up-org::abc'])
  })

  it('passes dpo and integrations to the upstream, and a cancel cancels the upstream job', async () => {
    const client = t.client()
    const file = await client.files.create({ file: await toFile(Buffer.from(lines), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({
      model: 'remote-mini',
      training_file: file.id,
      method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.2 } } },
      integrations: [{ type: 'wandb', wandb: { project: 'p' } }],
    })
    const remote = await until(async () => [...up.jobs.values()].find((j) => j.body.training_file && (j.body.method as any).type === 'dpo'), (j) => j !== undefined)
    expect(remote!.body).toMatchObject({ method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.2 } } }, integrations: [{ type: 'wandb', wandb: { project: 'p' } }] })
    await until(() => client.fineTuning.jobs.listEvents(job.id), (p) => p.data.some((e) => e.message.startsWith('Created the job at the upstream')))
    const cancelled = await client.fineTuning.jobs.cancel(job.id)
    expect(cancelled.status).toBe('cancelled')
    await until(async () => remote!.status, (s) => s === 'cancelled')
  })

  it('forwards pause and resume to the upstream, mirrors the paused job, and cancels a paused one', async () => {
    const client = t.client()
    const file = await client.files.create({ file: await toFile(Buffer.from(lines), 'train.jsonl'), purpose: 'fine-tune' })
    const create = () => client.fineTuning.jobs.create({ model: 'remote-mini', training_file: file.id })
    const running = async (id: string) => {
      const remote = await until(async () => [...up.jobs.values()].find((j) => j.status === 'validating_files'), (j) => j !== undefined)
      up.advance()
      up.advance()
      await until(() => client.fineTuning.jobs.retrieve(id), (j) => j.status === 'running')
      return remote!
    }
    const job = await create()
    const remote = await running(job.id)
    const paused = await client.fineTuning.jobs.pause(job.id)
    expect(paused).toMatchObject({ object: 'fine_tuning.job', id: job.id, status: 'paused', estimated_finish: null, finished_at: null })
    expect(up.pauses).toEqual([`pause ${remote.id}`])
    expect(remote.status).toBe('paused')
    // the mirror keeps it paused (the upstream's status) while polls go on
    up.advance()
    await new Promise((r) => setTimeout(r, 150))
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('paused')
    await expect(client.fineTuning.jobs.resume(job.id)).resolves.toMatchObject({ status: 'running' })
    expect(up.pauses).toEqual([`pause ${remote.id}`, `resume ${remote.id}`])
    await expect(client.fineTuning.jobs.resume(job.id)).rejects.toMatchObject({ status: 400 })
    up.advance()
    await until(() => client.fineTuning.jobs.retrieve(job.id), (j) => j.status === 'succeeded')
    await expect(client.fineTuning.jobs.pause(job.id)).rejects.toMatchObject({ status: 400 })
    expect(up.pauses).toHaveLength(2)

    // a paused upstream job cancelled: cancelled here and there
    const second = await create()
    const remote2 = await running(second.id)
    // a status the mirror does not know (an upstream's transient 'pausing') changes nothing
    remote2.status = 'pausing'
    await new Promise((r) => setTimeout(r, 150))
    expect((await client.fineTuning.jobs.retrieve(second.id)).status).toBe('running')
    // the upstream refuses (its job is not running there): its refusal, and nothing changes here
    const refused = await client.fineTuning.jobs.pause(second.id).catch((e) => e)
    expect(refused.status).toBe(400)
    expect(refused.error.message).toMatch(/Cannot pause a job that is pausing/)
    expect((await client.fineTuning.jobs.retrieve(second.id)).status).toBe('running')
    remote2.status = 'running'
    await client.fineTuning.jobs.pause(second.id)
    await expect(client.fineTuning.jobs.cancel(second.id)).resolves.toMatchObject({ status: 'cancelled' })
    await until(async () => remote2.status, (s) => s === 'cancelled')
  })
})
