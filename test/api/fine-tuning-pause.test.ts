import OpenAI, { toFile } from 'openai'
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installFakeTrainer } from '../helpers/fake-trainer.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'
import { createRepos } from '../../src/storage/repositories/index.js'

// POST /v1/fine_tuning/jobs/{id}/pause and /resume (SDK 6's jobs.pause / jobs.resume; the spec
// file has no such operations) on the local trainer's path, with the test-only trainer: a pause
// stops training after its step with the adapter saved, a resume goes on from that step.

skippedPgCase('fine-tuning pause/resume on postgres')

const example = (i: number) => ({ messages: [{ role: 'user', content: `What is ${i} + ${i}?` }, { role: 'assistant', content: `${2 * i}` }] })
const twenty = Array.from({ length: 20 }, (_, i) => example(i))

describe.each(storageCases())('fine-tuning pause and resume on $name', ({ create }) => {
  let t: TestApp
  let client: OpenAI
  let trainer: ReturnType<typeof installFakeTrainer>
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('fine_tuning_pause')
    cleanup = storage.cleanup
    t = await createTestApp({}, { storage: storage.config })
    client = t.client()
    trainer = installFakeTrainer(t.ctx.providers.resolve('test-echo').provider, { stepMs: 60 })
    t.ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  async function upload() {
    const text = twenty.map((l) => JSON.stringify(l)).join('\n') + '\n'
    return client.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl'), purpose: 'fine-tune' })
  }

  async function waitFor(id: string, ok: (job: FineTuningJob) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const job = await client.fineTuning.jobs.retrieve(id)
      if (ok(job)) return job
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  const events = async (id: string) => (await client.fineTuning.jobs.listEvents(id, { limit: 100 })).data
  async function metricsSeen(id: string, count: number) {
    const deadline = Date.now() + 10_000
    while ((await events(id)).filter((e) => e.type === 'metrics').length < count) {
      if (Date.now() > deadline) throw new Error('no metrics')
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** A running job of 10 steps (2 epochs of 5), with its first metrics written. */
  async function runningJob() {
    const file = await upload()
    const job = await client.fineTuning.jobs.create({ model: 'test-echo', training_file: file.id, seed: 7, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } } })
    await waitFor(job.id, (j) => j.status === 'running')
    await metricsSeen(job.id, 2)
    return job
  }

  it('pauses a running job after its step with the adapter saved, and resumes it from that step', async () => {
    const job = await runningJob()
    const calls = trainer.calls.length
    const paused = await client.fineTuning.jobs.pause(job.id)
    // the FineTuningJob, field by field as SDK 6 types it
    expect(paused).toMatchObject({ object: 'fine_tuning.job', id: job.id, model: 'test-echo', status: 'paused', fine_tuned_model: null, finished_at: null, estimated_finish: null, trained_tokens: null, error: null })
    expect(paused.hyperparameters).toEqual({ n_epochs: 2, batch_size: 4, learning_rate_multiplier: expect.any(Number) })
    // the trainer is told at once, stops after its step
    const call = trainer.calls[calls - 1]
    expect(call.pause?.aborted).toBe(true)
    expect(call.signal.aborted).toBe(false)
    const stopped = async () => (await events(job.id)).find((e) => e.message.startsWith('Fine-tuning job paused at step'))
    const deadline = Date.now() + 5_000
    while (!(await stopped()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const at = Number(/step (\d+)/.exec((await stopped())!.message)![1])
    expect(at).toBeGreaterThanOrEqual(2)
    expect(at).toBeLessThan(10)
    // it stays paused: no step is trained while paused, no runner holds it
    await new Promise((r) => setTimeout(r, 400))
    const still = await client.fineTuning.jobs.retrieve(job.id)
    expect(still.status).toBe('paused')
    expect((await events(job.id)).filter((e) => e.type === 'metrics')).toHaveLength(at)
    expect(trainer.calls.length).toBe(calls)
    // its runner job has ended, and the sweep (which fails jobs whose runner is gone) leaves it
    await t.ctx.services.fineTuning.sweep()
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('paused')
    // pausing a paused job answers it unchanged
    await expect(client.fineTuning.jobs.pause(job.id)).resolves.toMatchObject({ status: 'paused' })

    const resumed = await client.fineTuning.jobs.resume(job.id)
    expect(resumed).toMatchObject({ object: 'fine_tuning.job', id: job.id, status: 'running', finished_at: null })
    const done = await waitFor(job.id, (j) => !['running', 'paused', 'queued'].includes(j.status))
    expect(done.status).toBe('succeeded')
    expect(done.fine_tuned_model).toMatch(/^ft:test-echo:/)
    expect(done.trained_tokens).toBe(20 * 10 * 2)
    // the new run went on from the paused step, from the adapter saved there
    const next = trainer.calls.at(-1)!
    expect(next).not.toBe(call)
    expect(next.resumeFrom).toMatchObject({ step: at, adapterPath: expect.stringContaining(`paused-${at}.adapter`) })
    const all = await events(job.id)
    const steps = all.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
    expect(steps.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const messages = all.map((e) => e.message).reverse()
    const order = ['Pausing the job: training stops after its current step, which is saved', `Fine-tuning job paused at step ${at}; the training so far is kept, and a resume continues from there`, 'The job was resumed', `Fine-tuning job resumed from step ${at}`, 'The job has successfully completed']
    expect(order.map((m) => messages.indexOf(m))).toEqual([...order.map((m) => messages.indexOf(m))].sort((a, b) => a - b))
    expect(order.every((m) => messages.includes(m))).toBe(true)
    expect(all.every((e) => e.object === 'fine_tuning.job.event')).toBe(true)
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(job.id)
    expect(checkpoints.data.map((c) => c.step_number)).toEqual([10, 5])
    // audit-logged as creation and cancel are (Plinth's types)
    const audit = await t.ctx.storage.db.selectFrom('audit_logs').select('type').where('resource_id', '=', job.id).orderBy('id').execute()
    expect(audit.map((r) => r.type)).toEqual(['fine_tuning.job.created', 'fine_tuning.job.paused', 'fine_tuning.job.resumed'])
  }, 40_000)

  it('resumes at once after a pause: the new run waits for the paused one to have saved its step', async () => {
    const job = await runningJob()
    const calls = trainer.calls.length
    await client.fineTuning.jobs.pause(job.id)
    await client.fineTuning.jobs.resume(job.id)
    const done = await waitFor(job.id, (j) => !['running', 'paused', 'queued'].includes(j.status))
    expect(done.status).toBe('succeeded')
    expect(done.trained_tokens).toBe(20 * 10 * 2)
    // two runs, one after the other: the second from the first's pause
    expect(trainer.calls.length).toBe(calls + 1)
    const [first, second] = trainer.calls.slice(calls - 1)
    expect(first.pause?.aborted).toBe(true)
    expect(second.resumeFrom?.step).toBeGreaterThanOrEqual(2)
    const steps = (await events(job.id)).filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
    expect(steps.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  }, 40_000)

  it('a pause made on another node reaches the training through the job status', async () => {
    const job = await runningJob()
    const call = trainer.calls.at(-1)!
    // as another node's pause does: the status changes, this process is not told
    const projectId = (await t.ctx.storage.db.selectFrom('fine_tuning_jobs').select('project_id').where('id', '=', job.id).executeTakeFirstOrThrow()).project_id
    await createRepos(t.ctx.storage.db).fineTuningJobs.transition(projectId, job.id, ['running'], { status: 'paused' })
    const at = Date.now()
    while (!call.pause?.aborted && Date.now() - at < 3000) await new Promise((r) => setTimeout(r, 20))
    expect(call.pause?.aborted).toBe(true)
    expect(Date.now() - at).toBeLessThan(1500)
    await client.fineTuning.jobs.resume(job.id)
    await expect(waitFor(job.id, (j) => j.status === 'succeeded')).resolves.toMatchObject({ trained_tokens: 400 })
  }, 40_000)

  it("a paused job's checkpoints stay served, as the database says them (a restart, another node)", async () => {
    const job = await runningJob()
    const first = await (async () => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        const page = await client.fineTuning.jobs.checkpoints.list(job.id)
        if (page.data.length) return page.data[0]
      }
      throw new Error('no checkpoint')
    })()
    await client.fineTuning.jobs.pause(job.id)
    await t.ctx.services.fineTuning.models.resync()
    expect((await client.models.list()).data.map((m) => m.id)).toContain(first.fine_tuned_model_checkpoint)
    await client.fineTuning.jobs.cancel(job.id)
  }, 30_000)

  it('cancels a paused job', async () => {
    const job = await runningJob()
    await client.fineTuning.jobs.pause(job.id)
    const cancelled = await client.fineTuning.jobs.cancel(job.id)
    expect(cancelled).toMatchObject({ status: 'cancelled', fine_tuned_model: null })
    expect(cancelled.finished_at).not.toBeNull()
    await new Promise((r) => setTimeout(r, 300))
    await expect(client.fineTuning.jobs.retrieve(job.id)).resolves.toMatchObject({ status: 'cancelled' })
    // a cancelled job is neither paused nor resumed
    await expect(client.fineTuning.jobs.resume(job.id)).rejects.toMatchObject({ status: 400, error: { message: `Cannot resume fine-tuning job ${job.id}: only a paused job can be resumed, and it is cancelled.` } })
    await expect(client.fineTuning.jobs.pause(job.id)).rejects.toMatchObject({ status: 400 })
  }, 30_000)

  it('refuses to resume a running job and to pause a finished one; 404 for unknown and other projects', async () => {
    const job = await runningJob()
    const running = await client.fineTuning.jobs.resume(job.id).catch((e) => e)
    expect(running).toBeInstanceOf(OpenAI.BadRequestError)
    expect(running.error).toEqual({ message: `Cannot resume fine-tuning job ${job.id}: only a paused job can be resumed, and it is running.`, type: 'invalid_request_error', param: null, code: null })
    expect(running.headers.get('x-should-retry')).toBe('false')

    const other = await otherProjectClient(t)
    for (const call of [() => other.fineTuning.jobs.pause(job.id), () => other.fineTuning.jobs.resume(job.id), () => client.fineTuning.jobs.pause('ftjob-nope'), () => client.fineTuning.jobs.resume('ftjob-nope')]) {
      const error = await call().catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error).toMatchObject({ type: 'invalid_request_error', param: 'fine_tuning_job_id', code: null })
      expect(error.error.message).toMatch(/fine-tuning job/)
    }
    // the other project's calls changed nothing
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('running')

    const done = await waitFor(job.id, (j) => j.status === 'succeeded')
    const finished = await client.fineTuning.jobs.pause(done.id).catch((e) => e)
    expect(finished).toBeInstanceOf(OpenAI.BadRequestError)
    expect(finished.error).toEqual({ message: `Cannot pause fine-tuning job ${job.id}: only a running job can be paused, and it is succeeded.`, type: 'invalid_request_error', param: null, code: null })
    await expect(client.fineTuning.jobs.resume(done.id)).rejects.toMatchObject({ status: 400 })
  }, 30_000)
})
