/**
 * Runs and run steps (migration 0008, docs/assistants.md). The v2 form is stored; JSON lives in
 * text columns; timestamps are unix seconds.
 */

export type RunStatus =
  | 'queued'
  | 'in_progress'
  | 'requires_action'
  | 'cancelling'
  | 'cancelled'
  | 'failed'
  | 'completed'
  | 'incomplete'
  | 'expired'

export interface RunsTable {
  id: string
  project_id: string
  org_id: string
  /** the key that created it: the model runs, and records usage, as this key */
  api_key_id: string | null
  thread_id: string
  assistant_id: string
  created_at: number
  status: RunStatus
  model: string
  instructions: string
  /** JSON array of v2 tools */
  tools: string
  /** JSON array: the assistant's code interpreter files (v1 run file_ids) */
  file_ids: string
  /**
   * JSON: create-and-run's `tool_resources`, in place of the assistant's for this run (its
   * code_interpreter files are `file_ids`); null: the assistant's (migration 0019)
   */
  tool_resources: string | null
  metadata: string
  temperature: number | null
  top_p: number | null
  /** JSON, null: 'auto' */
  response_format: string | null
  /** JSON, null: 'auto' */
  tool_choice: string | null
  /** 1 or 0 */
  parallel_tool_calls: number
  /** JSON { type, last_messages } */
  truncation_strategy: string
  max_prompt_tokens: number | null
  max_completion_tokens: number | null
  /** JSON or null */
  required_action: string | null
  last_error: string | null
  incomplete_details: string | null
  /** JSON { prompt_tokens, completion_tokens, total_tokens } so far; shown once the run ends */
  usage: string | null
  started_at: number | null
  expires_at: number | null
  cancelled_at: number | null
  failed_at: number | null
  completed_at: number | null
  /** unix ms: the executor holding the run writes it while it works (the streamed-run watchdog) */
  heartbeat_at: number | null
}

export type RunStepStatus = 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired'

export interface RunStepsTable {
  id: string
  project_id: string
  thread_id: string
  run_id: string
  assistant_id: string
  created_at: number
  type: 'message_creation' | 'tool_calls'
  status: RunStepStatus
  /** JSON: the wire's step_details */
  step_details: string
  /** JSON: built-in tool calls' data beyond step_details (migration 0010; StepToolData) */
  tool_data: string | null
  last_error: string | null
  usage: string | null
  metadata: string
  cancelled_at: number | null
  completed_at: number | null
  failed_at: number | null
  expired_at: number | null
}
