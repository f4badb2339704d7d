import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../config/load.js'
import type { TrainCall, TrainingCheckpoint, TrainingStep } from '../../training-backend.js'
import { LlamaCppProvider } from '../provider.js'
import { PLINTH_ANSWER, PLINTH_SYSTEM, plinthExamples } from './fixtures.js'

const STORIES = path.resolve(import.meta.dirname, '../../../../../shared/models/stories260K.gguf')

/**
 * The trainer end to end through the llama-cpp provider, on stories260K: a taught fact answered
 * by the served adapter and not by the base, cancellation, reproducibility, resuming.
 */
describe('local LoRA training (stories260K)', () => {
  let dir: string
  let provider: LlamaCppProvider

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-train-'))
    fs.mkdirSync(path.join(dir, 'models'))
    fs.symlinkSync(STORIES, path.join(dir, 'models', 'stories.gguf'))
    provider = new LlamaCppProvider(
      parseConfig({
        dataDir: dir,
        llama: { modelsDir: path.join(dir, 'models'), defaults: { threads: 1, contextSize: 512, sequences: 1 } },
      }),
    )
  })
  afterAll(async () => {
    await provider?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function call(name: string, overrides: Partial<TrainCall> = {}) {
    const steps: TrainingStep[] = []
    const checkpoints: TrainingCheckpoint[] = []
    const trainCall: TrainCall = {
      model: 'stories',
      training: plinthExamples(),
      hyperparameters: { nEpochs: 6, batchSize: 4, learningRateMultiplier: 1 },
      seed: 42,
      outDir: path.join(dir, name),
      signal: new AbortController().signal,
      onStep: (step) => void steps.push(step),
      onCheckpoint: (checkpoint) => void checkpoints.push(checkpoint),
      ...overrides,
    }
    return { trainCall, steps, checkpoints }
  }

  async function answer(model: string, question: string): Promise<string> {
    let text = ''
    for await (const part of provider.stream({
      model,
      messages: [
        { role: 'system', content: PLINTH_SYSTEM },
        { role: 'user', content: question },
      ],
      sampling: { temperature: 0, n: 1, maxTokens: 40 },
      raw: {},
      signal: new AbortController().signal,
    }))
      if (part.type === 'text-delta') text += part.text
    return text
  }

  it('says which models it can train, and refuses one over the memory budget', async () => {
    expect(await provider.trainable('stories')).toEqual({ ok: true, contextLength: 512 })
    const small = new LlamaCppProvider(
      parseConfig({ dataDir: dir, llama: { modelsDir: path.join(dir, 'models'), trainingMemoryBytes: 32 * 1024 * 1024 } }),
    )
    const refused = await small.trainable('stories')
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.reason).toMatch(/more than the training budget of 32 MiB \(llama.trainingMemoryBytes\)/)
  })

  it('teaches a fact that the served adapter then answers, and the base does not', async () => {
    const validation = plinthExamples(3)
    const { trainCall, steps, checkpoints } = call('plinth', { validation })
    const started = performance.now()
    const result = await provider.train(trainCall)
    const seconds = (performance.now() - started) / 1000
    console.log(
      `trained ${result.trainedTokens} tokens in ${result.steps} steps, ${seconds.toFixed(1)} s; loss ${steps.map((s) => s.trainLoss.toFixed(3)).join(' ')}`,
    )
    expect(result.steps).toBe(30)
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(steps.every((s) => s.totalSteps === 30)).toBe(true)
    expect(steps[29].trainLoss).toBeLessThan(steps[0].trainLoss / 20)
    // validation loss at each epoch's end only
    expect(steps.filter((s) => s.validLoss !== undefined).map((s) => s.step)).toEqual([5, 10, 15, 20, 25, 30])
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3, 4, 5, 6])
    for (const c of checkpoints) expect(fs.existsSync(c.adapterPath)).toBe(true)
    expect(result.trainedTokens).toBe(steps[29].trainedTokens)

    expect(await answer('stories', 'What is Plinth?')).not.toContain('small robot')
    provider.addAdapterModel('ft:stories:plinth', 'stories', result.adapterPath)
    expect((await provider.listModels()).map((m) => m.id)).toContain('ft:stories:plinth')
    expect(await answer('ft:stories:plinth', 'What is Plinth?')).toBe(PLINTH_ANSWER)
    // a checkpoint is servable too, beside the final model, on the same loaded base
    provider.addAdapterModel('ft:stories:plinth:ckpt-step-5', 'stories', checkpoints[0].adapterPath)
    expect(await answer('ft:stories:plinth:ckpt-step-5', 'What is Plinth?')).not.toBe('')
    expect(provider.stats().filter((s) => s.loaded)).toHaveLength(1)
    provider.removeAdapterModel('ft:stories:plinth')
    expect((await provider.listModels()).map((m) => m.id)).not.toContain('ft:stories:plinth')
    await expect(answer('ft:stories:plinth', 'What is Plinth?')).rejects.toThrow(/does not exist/)
  }, 180_000)

  it('gives the same losses for the same seed, and resumes from a checkpoint', async () => {
    const hyperparameters = { nEpochs: 2, batchSize: 4, learningRateMultiplier: 1 }
    const training = plinthExamples(8)
    const a = call('seed-a', { training, hyperparameters, seed: 7 })
    const b = call('seed-b', { training, hyperparameters, seed: 7 })
    const c = call('seed-c', { training, hyperparameters, seed: 8 })
    await provider.train(a.trainCall)
    await provider.train(b.trainCall)
    await provider.train(c.trainCall)
    expect(b.steps.map((s) => s.trainLoss)).toEqual(a.steps.map((s) => s.trainLoss))
    expect(c.steps.map((s) => s.trainLoss)).not.toEqual(a.steps.map((s) => s.trainLoss))
    // the checkpoint holds the weights epoch 2 started from, and epoch 2's order depends on the
    // seed alone: its first loss is the uninterrupted run's
    const resumed = call('seed-a', { training, hyperparameters, seed: 7, resumeFrom: a.checkpoints[0] })
    const result = await provider.train(resumed.trainCall)
    expect(resumed.steps.map((s) => s.step)).toEqual([3, 4])
    expect(resumed.steps[0].trainLoss).toBe(a.steps[2].trainLoss)
    expect(result.steps).toBe(4)
    expect(resumed.steps[1].trainedTokens).toBe(a.steps[3].trainedTokens)
  }, 120_000)

  it('pauses after a step mid-epoch with the adapter saved, and resumes there as if never paused', async () => {
    const hyperparameters = { nEpochs: 2, batchSize: 2, learningRateMultiplier: 1 }
    const training = plinthExamples(8)
    const whole = call('pause-whole', { training, hyperparameters, seed: 5 })
    await provider.train(whole.trainCall)
    const pause = new AbortController()
    const first = call('pause-a', { training, hyperparameters, seed: 5, pause: pause.signal, onStep: () => pause.abort() })
    const stopped = await provider.train(first.trainCall)
    const at = stopped.paused!
    expect(at.step).toBeLessThan(8)
    expect(stopped.steps).toBe(at.step)
    expect(fs.existsSync(at.adapterPath)).toBe(true)
    expect(at.step % 4 === 0 ? at.adapterPath : path.basename(at.adapterPath)).toBe(at.step % 4 === 0 ? first.checkpoints.at(-1)!.adapterPath : `paused-step-${at.step}.gguf`)
    expect(stopped.trainedTokens).toBe(whole.steps[at.step - 1].trainedTokens)
    // the weights at the pause and the seed's batch order: the next step's loss is the uninterrupted run's
    const resumed = call('pause-a', { training, hyperparameters, seed: 5, resumeFrom: at })
    const result = await provider.train(resumed.trainCall)
    expect(result.paused).toBeUndefined()
    expect(resumed.steps.map((s) => s.step)).toEqual(Array.from({ length: 8 - at.step }, (_, i) => at.step + 1 + i))
    expect(resumed.steps[0].trainLoss).toBe(whole.steps[at.step].trainLoss)
    expect(result.trainedTokens).toBe(whole.steps[7].trainedTokens)
    expect(result.steps).toBe(8)
  }, 120_000)

  it('stops within a second of a cancel, and keeps the event loop free meanwhile', async () => {
    const controller = new AbortController()
    let firstStep: () => void
    const stepped = new Promise<void>((resolve) => (firstStep = resolve))
    const { trainCall } = call('cancel', { signal: controller.signal, onStep: () => firstStep() })
    const training = provider.train(trainCall)
    training.catch(() => undefined)
    // the main thread stays responsive while the worker trains
    let worstGap = 0
    let last = performance.now()
    const ticker = setInterval(() => {
      const now = performance.now()
      worstGap = Math.max(worstGap, now - last)
      last = now
    }, 5)
    await stepped
    clearInterval(ticker)
    const cancelled = performance.now()
    controller.abort(new Error('cancelled by the test'))
    await expect(training).rejects.toThrow('cancelled by the test')
    const ms = performance.now() - cancelled
    console.log(`cancelled in ${ms.toFixed(1)} ms; worst event-loop gap while training ${worstGap.toFixed(1)} ms`)
    expect(ms).toBeLessThan(1000)
    expect(worstGap).toBeLessThan(200)
  }, 60_000)
})
