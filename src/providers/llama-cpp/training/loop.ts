import fs from 'node:fs'
import path from 'node:path'
import { AdamW } from './adamw.js'
import { Tape } from './autograd.js'
import type { Sequence } from './examples.js'
import { readGguf } from './gguf.js'
import { LlamaModel, shapeOf, type Lora } from './llama-model.js'
import { initLora, readAdapter, rng, writeAdapter } from './lora.js'

/** The learning rate at learning_rate_multiplier 1 (AdamW, constant: what the spike trained with). */
export const BASE_LEARNING_RATE = 5e-3
export const WEIGHT_DECAY = 0.01

export type TrainJob = {
  modelPath: string
  training: Sequence[]
  validation: Sequence[]
  nEpochs: number
  batchSize: number
  learningRate: number
  seed: number
  outDir: string
  /** The adapter's general.name. */
  name: string
  resume?: { adapterPath: string; epoch: number; step: number }
  /** Set to 1 (Atomics) by the server to pause: training stops after the current step, its adapter saved. */
  pauseFlag?: SharedArrayBuffer
}

export type TrainEvent =
  | { type: 'step'; step: number; totalSteps: number; epoch: number; trainLoss: number; validLoss?: number; trainedTokens: number }
  | { type: 'checkpoint'; epoch: number; step: number; adapterPath: string; trainLoss: number; validLoss?: number }
  | { type: 'done'; adapterPath: string; trainedTokens: number; steps: number }
  /** A pause: the adapter after `step` (mid-epoch too); a run resumed from it continues at step + 1. */
  | { type: 'paused'; epoch: number; step: number; adapterPath: string; trainLoss: number; trainedTokens: number }

/** The examples' order in `epoch`: a shuffle seeded by the job's seed and the epoch alone, so a resumed run sees the same order. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const random = rng((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0)
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

/**
 * The training run: LoRA pairs (fresh, or the checkpoint's when resuming: the AdamW moments then
 * start again from zero), AdamW steps over seeded-shuffled batches, the mean loss per target
 * token, an adapter file at each epoch's end, and one at a pause (then it returns). Synchronous
 * and CPU-bound: it runs in a worker.
 */
export function runTraining(job: TrainJob, emit: (event: TrainEvent) => void) {
  const file = readGguf(job.modelPath)
  const shape = shapeOf(file)
  const architecture = String(file.metadata.get('general.architecture'))
  const model = new LlamaModel(shape, file)
  const lora: Lora = job.resume ? readAdapter(job.resume.adapterPath, shape) : initLora(shape, job.seed)
  const params = [...lora.values()].flatMap((p) => [p.a, p.b])
  const optimizer = new AdamW(params, { lr: job.learningRate, weightDecay: WEIGHT_DECAY })
  const stepsPerEpoch = Math.ceil(job.training.length / job.batchSize)
  const totalSteps = stepsPerEpoch * job.nEpochs
  const epochTokens = job.training.reduce((n, s) => n + s.tokens.length + 1, 0)
  // a checkpoint may be mid-epoch (a pause): its step says where the run stands
  let step = job.resume?.step ?? 0
  const firstEpoch = Math.floor(step / stepsPerEpoch) + 1
  const firstBatch = step % stepsPerEpoch
  const tokensOf = (i: number) => job.training[i].tokens.length + 1
  let trainedTokens = (firstEpoch - 1) * epochTokens
  if (firstBatch) trainedTokens += epochOrder(job.training.length, job.seed, firstEpoch).slice(0, firstBatch * job.batchSize).reduce((n, i) => n + tokensOf(i), 0)
  let adapterPath = job.resume?.adapterPath
  const pause = job.pauseFlag ? new Int32Array(job.pauseFlag) : undefined
  fs.mkdirSync(job.outDir, { recursive: true })
  for (let epoch = firstEpoch; epoch <= job.nEpochs; epoch++) {
    const order = epochOrder(job.training.length, job.seed, epoch)
    let trainLoss = 0
    for (let b = epoch === firstEpoch ? firstBatch : 0; b < stepsPerEpoch; b++) {
      const batch = order.slice(b * job.batchSize, (b + 1) * job.batchSize).map((i) => job.training[i])
      const targets = batch.reduce((n, s) => n + s.targets.filter((t) => t >= 0).length, 0)
      let sum = 0
      for (const sequence of batch) {
        const tape = new Tape()
        sum += model.loss(tape, sequence.tokens, sequence.targets, lora, 1 / Math.max(targets, 1))
        tape.backward()
        trainedTokens += sequence.tokens.length + 1
      }
      optimizer.step()
      step++
      trainLoss = sum / Math.max(targets, 1)
      const epochEnd = b === stepsPerEpoch - 1
      const validLoss = epochEnd && job.validation.length ? meanLoss(model, job.validation, lora) : undefined
      emit({ type: 'step', step, totalSteps, epoch, trainLoss, validLoss, trainedTokens })
      if (epochEnd) {
        adapterPath = path.join(job.outDir, `checkpoint-epoch-${epoch}.gguf`)
        writeAdapter(adapterPath, architecture, lora, `${job.name} (epoch ${epoch})`)
        emit({ type: 'checkpoint', epoch, step, adapterPath, trainLoss, validLoss })
      }
      if (pause && Atomics.load(pause, 0) === 1 && step < totalSteps) {
        if (!epochEnd) {
          adapterPath = path.join(job.outDir, `paused-step-${step}.gguf`)
          writeAdapter(adapterPath, architecture, lora, `${job.name} (step ${step})`)
        }
        emit({ type: 'paused', epoch, step, adapterPath: adapterPath!, trainLoss, trainedTokens })
        return
      }
    }
  }
  if (!adapterPath) throw new Error('no training step was run')
  const final = path.join(job.outDir, 'adapter.gguf')
  fs.copyFileSync(adapterPath, final)
  emit({ type: 'done', adapterPath: final, trainedTokens, steps: step })
}

/** The mean loss per target token over `sequences` (no gradient kept). */
export function meanLoss(model: LlamaModel, sequences: Sequence[], lora: Lora): number {
  let sum = 0
  let count = 0
  for (const s of sequences) {
    sum += model.loss(new Tape(), s.tokens, s.targets, lora, 0)
    count += s.targets.filter((t) => t >= 0).length
  }
  return sum / Math.max(count, 1)
}
