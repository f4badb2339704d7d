import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { Metadata } from './shared.js'

const auto = z.literal('auto')
const NEpochs = z.union([auto, z.number().int().min(1).max(50)])
const BatchSize = z.union([auto, z.number().int().min(1).max(256)])
const LearningRateMultiplier = z.union([auto, z.number().gt(0)])

export const SupervisedHyperparameters = z.strictObject({
  batch_size: BatchSize.optional(),
  learning_rate_multiplier: LearningRateMultiplier.optional(),
  n_epochs: NEpochs.optional(),
})
export type SupervisedHyperparameters = z.output<typeof SupervisedHyperparameters>

const DpoHyperparameters = SupervisedHyperparameters.extend({
  beta: z.union([auto, z.number().gt(0).max(2)]).optional(),
})

export const FineTuneMethod = z.strictObject({
  // 'reinforcement' is newer than the spec here; it is accepted to be refused with a clear message
  type: z.enum(['supervised', 'dpo', 'reinforcement']),
  supervised: z.strictObject({ hyperparameters: SupervisedHyperparameters.optional() }).optional(),
  dpo: z.strictObject({ hyperparameters: DpoHyperparameters.optional() }).optional(),
  reinforcement: z.record(z.string(), z.unknown()).optional(),
})
export type FineTuneMethod = z.output<typeof FineTuneMethod>

export const FineTuningIntegration = z.strictObject({
  type: z.literal('wandb'),
  wandb: z.strictObject({
    project: z.string(),
    name: z.string().nullish(),
    entity: z.string().nullish(),
    tags: z.array(z.string()).optional(),
  }),
})

export const FineTuningJobCreateParams = z.strictObject({
  model: z.string(),
  training_file: z.string(),
  hyperparameters: SupervisedHyperparameters.optional(),
  suffix: z.string().min(1).max(64).nullish(),
  validation_file: z.string().nullish(),
  integrations: z.array(FineTuningIntegration).max(5).nullish(),
  seed: z.number().int().min(0).max(2147483647).nullish(),
  method: FineTuneMethod.optional(),
  metadata: Metadata.nullish(),
})
export type FineTuningJobCreateParams = z.output<typeof FineTuningJobCreateParams>

/** GET /v1/fine_tuning/jobs: newest first; `metadata[k]=v` filters, `metadata=null` wants none. */
export const FineTuningJobListQuery = z.strictObject({
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  metadata: z.union([z.record(z.string(), z.string()), z.literal('null')]).optional(),
})
export type FineTuningJobListQuery = z.output<typeof FineTuningJobListQuery>

export const FineTuningPageQuery = (limit: number) =>
  z.strictObject({
    after: z.string().optional(),
    limit: queryInteger(z.number().int().min(1).max(100)).default(limit),
  })
export type FineTuningPageQuery = { after?: string; limit: number }

export const CheckpointPermissionCreateParams = z.strictObject({
  project_ids: z.array(z.string()).min(1),
})
export type CheckpointPermissionCreateParams = z.output<typeof CheckpointPermissionCreateParams>

export const CheckpointPermissionListQuery = z.strictObject({
  project_id: z.string().optional(),
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(10),
  order: z.enum(['ascending', 'descending']).default('descending'),
})
export type CheckpointPermissionListQuery = z.output<typeof CheckpointPermissionListQuery>

type Hyper = { batch_size: number | 'auto'; learning_rate_multiplier: number | 'auto'; n_epochs: number | 'auto' }

export type FineTuningJobError = { code: string; message: string; param: string | null }

export type FineTuningJob = {
  object: 'fine_tuning.job'
  id: string
  model: string
  created_at: number
  finished_at: number | null
  fine_tuned_model: string | null
  organization_id: string
  result_files: string[]
  status: string
  validation_file: string | null
  training_file: string
  hyperparameters: Hyper
  trained_tokens: number | null
  error: FineTuningJobError | null
  integrations: unknown[] | null
  seed: number
  estimated_finish: number | null
  method: { type: string } & Record<string, unknown>
  metadata: Record<string, string> | null
  user_provided_suffix: string | null
}

export type FineTuningJobEvent = {
  object: 'fine_tuning.job.event'
  id: string
  created_at: number
  level: 'info' | 'warn' | 'error'
  message: string
  data: Record<string, unknown> | null
  type: 'message' | 'metrics'
}

export type FineTuningJobCheckpoint = {
  object: 'fine_tuning.job.checkpoint'
  id: string
  created_at: number
  fine_tuned_model_checkpoint: string
  fine_tuning_job_id: string
  metrics: Record<string, number>
  step_number: number
}

export type CheckpointPermission = {
  object: 'checkpoint.permission'
  id: string
  created_at: number
  project_id: string
}
