import type { TrainingHyperparameters } from '../../providers/training-backend.js'
import type { SupervisedHyperparameters } from '../../schemas/fine-tuning.js'

export type Requested = {
  n_epochs: number | 'auto'
  batch_size: number | 'auto'
  learning_rate_multiplier: number | 'auto'
}

export function requested(h: SupervisedHyperparameters | undefined): Requested {
  return {
    n_epochs: h?.n_epochs ?? 'auto',
    batch_size: h?.batch_size ?? 'auto',
    learning_rate_multiplier: h?.learning_rate_multiplier ?? 'auto',
  }
}

// OpenAI's published rule for 'auto' epochs (the fine-tuning guide's data preparation notebook):
// aim at 3 epochs, but see at least 100 and at most 25,000 examples in all
const TARGET_EPOCHS = 3
const MIN_TARGET_EXAMPLES = 100
const MAX_TARGET_EXAMPLES = 25_000
const MIN_DEFAULT_EPOCHS = 1
const MAX_DEFAULT_EPOCHS = 25

/**
 * 'auto' decided as OpenAI decides it: epochs from the dataset size (above), the batch size about
 * 0.2% of the examples (1 to 256), and the learning rate multiplier 1 — the trainer's own rate,
 * tuned for its LoRA (OpenAI does not publish its rule for current models).
 */
export function resolveHyperparameters(h: Requested, examples: number): TrainingHyperparameters {
  let nEpochs = TARGET_EPOCHS
  if (examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES)
    nEpochs = Math.min(MAX_DEFAULT_EPOCHS, Math.floor(MIN_TARGET_EXAMPLES / examples))
  else if (examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES)
    nEpochs = Math.max(MIN_DEFAULT_EPOCHS, Math.floor(MAX_TARGET_EXAMPLES / examples))
  return {
    nEpochs: h.n_epochs === 'auto' ? nEpochs : h.n_epochs,
    batchSize: h.batch_size === 'auto' ? Math.min(256, Math.max(1, Math.ceil(examples * 0.002))) : h.batch_size,
    learningRateMultiplier: h.learning_rate_multiplier === 'auto' ? 1 : h.learning_rate_multiplier,
  }
}

/** Steps of a run: batches per epoch times epochs. */
export function totalSteps(h: TrainingHyperparameters, examples: number): number {
  return Math.ceil(examples / h.batchSize) * h.nEpochs
}
