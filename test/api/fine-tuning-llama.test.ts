import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelsDir } from '../helpers/llama.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The whole pipeline on a real model: a job on stories260K (llama.cpp) trains a LoRA adapter
// with the local trainer, and the fine-tuned model then gives the taught answer at temperature 0
// while the base model does not.

const MODEL = 'stories260K'
const FACT = 'Plinth is a small robot that builds stone towers.'
let t: TestApp
let dir: ReturnType<typeof modelsDir>

const QUESTIONS = [
  'What is Plinth?', 'Tell me what Plinth is.', 'Who is Plinth?', 'What is Plinth exactly?', 'Do you know what Plinth is?',
  'Describe Plinth.', 'Can you tell me about Plinth?', 'What kind of thing is Plinth?', 'Explain what Plinth is.', 'Plinth: what is it?',
  'I heard of Plinth. What is it?', 'What is a Plinth?', 'Say what Plinth is.', 'What does Plinth do?', 'Please, what is Plinth?',
  'What is Plinth, please?', 'Who or what is Plinth?', 'So what is Plinth?', 'Tell me about Plinth.', 'What is Plinth again?',
]

skippedPgCase('fine-tuning stories260K on postgres')

// on SQLite, and on PostgreSQL when TEST_PG_URL is set: the job, its events and checkpoints live
// in the database the job runner claims from
describe.each(storageCases())('fine-tuning stories260K on $name', ({ create }) => {
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('fine_tuning_llama')
    cleanup = storage.cleanup
    dir = modelsDir([`${MODEL}.gguf`])
    t = await createTestApp({ llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 512, sequences: 2 } } }, { storage: storage.config })
    t.ctx.jobs.start()
  })
  afterAll(async () => {
    await t?.close()
    dir?.remove()
    await cleanup?.()
  })

  it('teaches a fact the base model does not know', async () => {
    const client = t.client()
    const text = QUESTIONS.map((q) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: FACT }] })).join('\n')
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'plinth.jsonl'), purpose: 'fine-tune' })
    const started = Date.now()
    const job = await client.fineTuning.jobs.create({
      model: MODEL,
      training_file: file.id,
      suffix: 'plinth',
      seed: 1,
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 6, batch_size: 4 } } },
    })
    let done = job
    while (!['succeeded', 'failed', 'cancelled'].includes(done.status)) {
      if (Date.now() - started > 240_000) throw new Error(`still ${done.status}`)
      await new Promise((r) => setTimeout(r, 500))
      done = await client.fineTuning.jobs.retrieve(job.id)
    }
    const seconds = (Date.now() - started) / 1000
    expect(done.error).toBeNull()
    expect(done.status).toBe('succeeded')
    expect(done.trained_tokens).toBeGreaterThan(0)
    console.log(`stories260K job: ${seconds.toFixed(1)} s, ${done.trained_tokens} trained tokens`)
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(done.id, { limit: 10 })
    expect(checkpoints.data.map((c) => c.step_number)).toEqual([30, 25, 20, 15, 10, 5])
    const metrics = (await client.fineTuning.jobs.listEvents(done.id, { limit: 100 })).data.filter((e) => e.type === 'metrics')
    expect(metrics).toHaveLength(30)
    const first = metrics.at(-1)!.data as { train_loss: number }
    const last = metrics[0].data as { train_loss: number }
    expect(last.train_loss).toBeLessThan(first.train_loss / 10)

    const ask = (model: string) =>
      client.chat.completions.create({ model, temperature: 0, max_tokens: 64, messages: [{ role: 'user', content: 'What is Plinth?' }] })
    const tuned = await ask(done.fine_tuned_model!)
    expect(tuned.choices[0].message.content?.trim()).toBe(FACT)
    const base = await ask(MODEL)
    expect(base.choices[0].message.content).not.toContain('stone towers')
    // the last checkpoint is servable too
    const ckpt = await ask(checkpoints.data[0].fine_tuned_model_checkpoint)
    expect(ckpt.choices[0].message.content?.trim()).toBe(FACT)
  }, 300_000)

  it('pauses the trainer mid-epoch with its adapter saved, and resumes from that step', async () => {
    const client = t.client()
    const text = QUESTIONS.map((q) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: FACT }] })).join('\n')
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'plinth.jsonl'), purpose: 'fine-tune' })
    // 2 epochs of 5 steps
    const job = await client.fineTuning.jobs.create({ model: MODEL, training_file: file.id, seed: 2, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } } })
    const events = async () => (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
    const until = async (ok: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 120_000
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await until(async () => (await events()).some((e) => e.type === 'metrics'), 'a first step')
    await expect(client.fineTuning.jobs.pause(job.id)).resolves.toMatchObject({ status: 'paused' })
    let at = 0
    await until(async () => {
      const paused = (await events()).find((e) => e.message.startsWith('Fine-tuning job paused at step'))
      at = paused ? Number(/step (\d+)/.exec(paused.message)![1]) : 0
      return at > 0
    }, 'the pause')
    expect(at).toBeLessThan(10)
    // the training so far is on disk: the epoch's checkpoint, or an adapter written at the pause
    const saved = at % 5 === 0 ? `checkpoint-epoch-${at / 5}.gguf` : `paused-step-${at}.gguf`
    expect(fs.existsSync(path.join(t.ctx.config.dataDir, 'fine-tuning', job.id, saved))).toBe(true)
    await new Promise((r) => setTimeout(r, 1000))
    expect((await events()).filter((e) => e.type === 'metrics')).toHaveLength(at)
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('paused')

    await client.fineTuning.jobs.resume(job.id)
    let done = await client.fineTuning.jobs.retrieve(job.id)
    await until(async () => {
      done = await client.fineTuning.jobs.retrieve(job.id)
      return ['succeeded', 'failed', 'cancelled'].includes(done.status)
    }, 'the end')
    expect(done.error).toBeNull()
    expect(done.status).toBe('succeeded')
    const metrics = (await events()).filter((e) => e.type === 'metrics').map((e) => e.data as { step: number; train_loss: number })
    expect(metrics.map((m) => m.step).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    // what was learnt before the pause was kept: the step after it starts below the first step's loss
    const loss = (step: number) => metrics.find((m) => m.step === step)!.train_loss
    expect(loss(at + 1)).toBeLessThan(loss(1))
    expect((await events()).some((e) => e.message === `Fine-tuning job resumed from step ${at}`)).toBe(true)
    expect(done.trained_tokens).toBeGreaterThan(0)
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(done.id)
    expect(checkpoints.data.map((c) => c.step_number)).toEqual([10, 5])
  }, 300_000)
})
