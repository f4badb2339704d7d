/** Evals, their runs and the runs' output items (migration 0022). JSON columns are text. */
export type EvalRunStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'canceled'

export interface EvalsTable {
  id: string
  project_id: string
  org_id: string
  name: string
  /** JSON: the data source config as the eval shows it (with its `schema`) */
  data_source_config: string
  /** JSON array: the graders as the eval shows them (each with its `id`) */
  testing_criteria: string
  metadata: string | null
  created_at: number
  updated_at: number
}

export interface EvalRunsTable {
  id: string
  eval_id: string
  project_id: string
  org_id: string
  api_key_id: string | null
  name: string
  model: string | null
  status: EvalRunStatus
  /** JSON: the data source as given */
  data_source: string
  metadata: string | null
  /** JSON {code, message} once failed */
  error: string | null
  result_total: number
  result_passed: number
  result_failed: number
  result_errored: number
  /** JSON arrays, null until the run starts */
  per_model_usage: string | null
  per_testing_criteria_results: string | null
  /** the runner's job working on it */
  job_id: string | null
  created_at: number
}

export interface EvalRunOutputItemsTable {
  id: string
  run_id: string
  eval_id: string
  project_id: string
  datasource_item_id: number
  /** 'pass' | 'fail' (errored items are 'fail' with the sample's error set) */
  status: string
  datasource_item: string
  results: string
  sample: string | null
  usage: string
  created_at: number
}
