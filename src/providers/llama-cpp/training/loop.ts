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
}

export type TrainEvent =
  | { type: 'step'; step: number; totalSteps: number; epoch: number; trainLoss: number; validLoss?: number; trainedTokens: number }
  | { type: 'checkpoint'; epoch: number; step: number; adapterPath: string; trainLoss: number; validLoss?: number }
  | { type: 'done'; adapterPath: string; trainedTokens: number; steps: number }

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
 * token, an adapter file at each epoch's end. Synchronous and CPU-bound: it runs in a worker.
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
  const firstEpoch = job.resume ? job.resume.epoch + 1 : 1
  let step = job.resume?.step ?? 0
  let trainedTokens = (firstEpoch - 1) * epochTokens
  let adapterPath = job.resume?.adapterPath
  fs.mkdirSync(job.outDir, { recursive: true })
  for (let epoch = firstEpoch; epoch <= job.nEpochs; epoch++) {
    const order = epochOrder(job.training.length, job.seed, epoch)
    let trainLoss = 0
    for (let b = 0; b < stepsPerEpoch; b++) {
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
