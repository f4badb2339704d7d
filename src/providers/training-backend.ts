import type { ChatMessageParam, Tool } from '../schemas/chat.js'

/** One validated line of a chat training file (OpenAI's fine-tuning chat format). */
export type TrainingExample = {
  messages: (ChatMessageParam & { weight?: 0 | 1 })[]
  tools?: Tool[]
  parallel_tool_calls?: boolean
}

/** Resolved hyperparameters ('auto' already decided by the domain, as OpenAI reports them). */
export type TrainingHyperparameters = { nEpochs: number; batchSize: number; learningRateMultiplier: number }

/** What the trainer reports after every optimizer step (becomes a `metrics` event). */
export type TrainingStep = {
  step: number
  totalSteps: number
  epoch: number
  trainLoss: number
  /** Mean loss on the validation examples, when a validation file was given (at epoch ends). */
  validLoss?: number
  /** Tokens trained so far (every token of every example, times the epochs done). */
  trainedTokens: number
  elapsedMs: number
}

/** An epoch's end: the adapter so far, itself servable. */
export type TrainingCheckpoint = { epoch: number; step: number; adapterPath: string; trainLoss: number; validLoss?: number }

export type TrainCall = {
  /** The backend's model id of the base model (registry-resolved). */
  model: string
  training: TrainingExample[]
  validation?: TrainingExample[]
  hyperparameters: TrainingHyperparameters
  seed: number
  /** A directory the trainer owns: checkpoints and the final adapter are written there. */
  outDir: string
  /** Continue after a crash: the last checkpoint's file and step (the optimizer restarts warm). */
  resumeFrom?: TrainingCheckpoint
  signal: AbortSignal
  /** Pause: training stops after the current step and saves its adapter (the result's `paused`). */
  pause?: AbortSignal
  onStep(step: TrainingStep): void
  onCheckpoint(checkpoint: TrainingCheckpoint): void | Promise<void>
}

export type TrainResult = {
  adapterPath: string
  trainedTokens: number
  steps: number
  /** Set when a pause stopped the training: the adapter so far, to resume from. */
  paused?: TrainingCheckpoint
}

/**
 * The methods a provider implements to fine-tune its models locally (llama-cpp: a LoRA trainer
 * in a worker thread) and to serve the result. Upstream fine-tuning jobs are a separate concern
 * of the openai-compatible provider.
 */
export interface TrainingBackend {
  /** Whether `model` can be trained here, and why not (a 400 at job creation). */
  trainable?(model: string): Promise<{ ok: true; contextLength: number } | { ok: false; reason: string }>
  /** Trains a LoRA adapter; rejects with the signal's reason when cancelled. */
  train?(call: TrainCall): Promise<TrainResult>
  /** Serves `id` as `baseModel` with an adapter (several adapters share one loaded base). */
  addAdapterModel?(id: string, baseModel: string, adapterPath: string): void
  removeAdapterModel?(id: string): void
}
