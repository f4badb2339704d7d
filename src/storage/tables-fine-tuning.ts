/** Fine-tuning jobs, their events, checkpoints and checkpoint permissions (migration 0012). */
export type FineTuningStatus =
  | 'validating_files'
  | 'queued'
  | 'running'
  /** pause/resume (docs/fine-tuning.md); a text column, no migration */
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'cancelled'

export interface FineTuningJobsTable {
  id: string
  project_id: string
  org_id: string
  api_key_id: string | null
  /** the public base model id */
  model: string
  /** 'local': a provider's trainer; 'upstream': an upstream's fine-tuning API, mirrored */
  backend: 'local' | 'upstream'
  training_file: string
  validation_file: string | null
  status: FineTuningStatus
  /** JSON: the method as the job shows it (`{type, supervised: {hyperparameters}}`) */
  method: string
  suffix: string | null
  seed: number
  metadata: string | null
  /** JSON array, or null when not given */
  integrations: string | null
  /** JSON {code, message, param} once failed */
  error: string | null
  fine_tuned_model: string | null
  /** JSON array of file ids */
  result_files: string
  trained_tokens: number | null
  estimated_finish: number | null
  created_at: number
  finished_at: number | null
  /** the runner's job working on it */
  job_id: string | null
  /** upstream jobs: the upstream's job id and model names */
  upstream_job_id: string | null
  upstream_model: string | null
  /** a served adapter (local jobs): where the final adapter is */
  adapter_path: string | null
  /** set when DELETE /v1/models removed the fine-tuned model */
  model_deleted_at: number | null
}

export interface FineTuningEventsTable {
  id: string
  fine_tuning_job_id: string
  project_id: string
  created_at: number
  level: 'info' | 'warn' | 'error'
  message: string
  type: 'message' | 'metrics'
  /** JSON object or null */
  data: string | null
}

export interface FineTuningCheckpointsTable {
  id: string
  fine_tuning_job_id: string
  project_id: string
  created_at: number
  step_number: number
  /** JSON metrics at the step */
  metrics: string
  fine_tuned_model_checkpoint: string
  /** local: the adapter file; upstream: the upstream's checkpoint model name */
  adapter_path: string | null
  upstream_model: string | null
}

export interface FineTuningPermissionsTable {
  id: string
  org_id: string
  /** a fine-tuned model or a checkpoint's model name */
  fine_tuned_model_checkpoint: string
  project_id: string
  created_at: number
}
