import os from 'node:os'
import type { LlamaConfig } from '../../../config/schema.js'
import type { TrainCall, TrainResult, TrainingExample } from '../../training-backend.js'
import type { LocalModel } from '../discovery.js'
import { DEFAULT_CONTEXT_SIZE, type LoadedModel } from '../loaded-model.js'
import { trainingBytes } from './estimate.js'
import { renderExample, type Sequence } from './examples.js'
import { readGgufHeader } from './gguf.js'
import { shapeOf, untrainableReason } from './llama-model.js'
import { BASE_LEARNING_RATE } from './loop.js'
import { trainInWorker } from './trainer.js'

export type Trainability = { ok: true; contextLength: number } | { ok: false; reason: string }

/** The budget of one training run: llama.trainingMemoryBytes, else half the machine's memory. */
export function trainingBudget(config: LlamaConfig): number {
  return config.trainingMemoryBytes ?? Math.floor(os.totalmem() / 2)
}

/**
 * Whether `local` can be fine-tuned here: a llama-architecture GGUF with F32/F16 weights whose
 * estimated training memory (at the context length it is served with) fits the budget. Reads
 * the header only.
 */
export function checkTrainable(local: LocalModel, config: LlamaConfig): Trainability {
  let header
  try {
    header = readGgufHeader(local.path)
  } catch (error) {
    return { ok: false, reason: `its file cannot be read (${error instanceof Error ? error.message : String(error)})` }
  }
  const reason = untrainableReason(header)
  if (reason) return { ok: false, reason }
  const shape = shapeOf(header)
  const served = local.options.contextSize ?? config.defaults.contextSize ?? DEFAULT_CONTEXT_SIZE
  const contextLength = Math.min(served, shape.contextLength)
  const need = trainingBytes(header, shape, contextLength)
  const budget = trainingBudget(config)
  if (need > budget)
    return {
      ok: false,
      reason: `training it would need about ${gib(need)} of memory (F32 weights and activations at its context length of ${contextLength} tokens), more than the training budget of ${gib(budget)} (llama.trainingMemoryBytes)`,
    }
  return { ok: true, contextLength }
}

/**
 * The examples as token sequences, rendered with the chat wrapper the model is served with. The
 * event loop gets a turn between examples (tokenizing is synchronous native work).
 */
export async function renderExamples(loaded: LoadedModel, examples: readonly TrainingExample[], maxTokens: number): Promise<Sequence[]> {
  const wrapper = await loaded.chatWrapper()
  const out: Sequence[] = []
  for (const [i, example] of examples.entries()) {
    if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve))
    const sequence = renderExample(loaded.model, wrapper, example)
    if (sequence.tokens.length + 1 > maxTokens)
      throw new Error(`example ${i + 1} has ${sequence.tokens.length + 1} tokens, more than the model's context of ${maxTokens}`)
    out.push(sequence)
  }
  return out
}

/** A training run in a worker thread, on sequences already rendered. */
export function runTrainCall(local: LocalModel, call: TrainCall, training: Sequence[], validation: Sequence[]): Promise<TrainResult> {
  const { nEpochs, batchSize, learningRateMultiplier } = call.hyperparameters
  return trainInWorker(
    {
      modelPath: local.path,
      training,
      validation,
      nEpochs,
      batchSize: Math.max(1, Math.min(batchSize, training.length)),
      learningRate: BASE_LEARNING_RATE * learningRateMultiplier,
      seed: call.seed,
      outDir: call.outDir,
      name: `${local.id} LoRA`,
      resume: call.resumeFrom && { adapterPath: call.resumeFrom.adapterPath, epoch: call.resumeFrom.epoch, step: call.resumeFrom.step },
    },
    call,
  )
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.ceil(bytes / 1024 ** 2)} MiB`
}
