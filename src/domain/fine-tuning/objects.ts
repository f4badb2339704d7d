import type {
  CheckpointPermission,
  FineTuningJob,
  FineTuningJobCheckpoint,
  FineTuningJobEvent,
} from '../../schemas/fine-tuning.js'
import type {
  FineTuningCheckpointRow,
  FineTuningEventRow,
  FineTuningJobRow,
  FineTuningPermissionRow,
} from '../../storage/repositories/fine-tuning.js'

export const FINE_TUNING_JOB = 'fine_tuning.job.run'
export type FineTuningJobPayload = {
  fineTuningJobId: string
  projectId: string
  /** a resume of a paused job: the runner job that paused it (its progress is the checkpoint to go on from) */
  resumeOf?: string
}

const AUTO = { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 'auto' } as const

export function toJobObject(row: FineTuningJobRow): FineTuningJob {
  const method = JSON.parse(row.method) as FineTuningJob['method']
  const own = method[method.type] as { hyperparameters?: Record<string, unknown> } | undefined
  const h = { ...AUTO, ...own?.hyperparameters }
  return {
    object: 'fine_tuning.job',
    id: row.id,
    model: row.model,
    created_at: row.created_at,
    finished_at: row.finished_at,
    fine_tuned_model: row.fine_tuned_model,
    organization_id: row.org_id,
    result_files: JSON.parse(row.result_files),
    status: row.status,
    validation_file: row.validation_file,
    training_file: row.training_file,
    hyperparameters: {
      batch_size: h.batch_size as number | 'auto',
      learning_rate_multiplier: h.learning_rate_multiplier as number | 'auto',
      n_epochs: h.n_epochs as number | 'auto',
    },
    trained_tokens: row.trained_tokens,
    error: row.error ? JSON.parse(row.error) : null,
    integrations: row.integrations ? JSON.parse(row.integrations) : null,
    seed: row.seed,
    estimated_finish: row.status === 'running' ? row.estimated_finish : null,
    method,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    user_provided_suffix: row.suffix,
  }
}

export function toEventObject(row: FineTuningEventRow): FineTuningJobEvent {
  return {
    object: 'fine_tuning.job.event',
    id: row.id,
    created_at: row.created_at,
    level: row.level,
    message: row.message,
    data: row.data ? JSON.parse(row.data) : {},
    type: row.type,
  }
}

export function toCheckpointObject(row: FineTuningCheckpointRow): FineTuningJobCheckpoint {
  return {
    object: 'fine_tuning.job.checkpoint',
    id: row.id,
    created_at: row.created_at,
    fine_tuned_model_checkpoint: row.fine_tuned_model_checkpoint,
    fine_tuning_job_id: row.fine_tuning_job_id,
    metrics: JSON.parse(row.metrics),
    step_number: row.step_number,
  }
}

export function toPermissionObject(row: FineTuningPermissionRow): CheckpointPermission {
  return {
    object: 'checkpoint.permission',
    id: row.id,
    created_at: row.created_at,
    project_id: row.project_id,
  }
}
