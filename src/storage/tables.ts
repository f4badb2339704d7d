import type { ColumnType } from 'kysely'
import type {
  FineTuningCheckpointsTable,
  FineTuningEventsTable,
  FineTuningJobsTable,
  FineTuningPermissionsTable,
} from './tables-fine-tuning.js'
import type { EvalRunOutputItemsTable, EvalRunsTable, EvalsTable } from './tables-evals.js'
import type { AssistantsTable, MessagesTable, ThreadsTable } from './tables-assistants.js'
import type { ConversationItemsTable, ConversationsTable, ResponseItemsTable, ResponsesTable } from './tables-responses.js'
import type { ContainerFilesTable, ContainersTable } from './tables-containers.js'
import type { RunStepsTable, RunsTable } from './tables-runs.js'
import type { ProjectRateLimitsTable, SpendAlertsTable, SpendLimitsTable, UsageRecordUnitColumns, UsageRollupsTable } from './tables-usage.js'
import type {
  VectorStoreFileBatchesTable,
  VectorStoreFilesTable,
  VectorStoresTable,
  VectorStoreUsageDaysTable,
} from './tables-vector-stores.js'

/**
 * The Kysely `Database` interface. Conventions (so migrations need no dialect branches):
 * app-made text ids, integer unix-second timestamps, JSON in text columns, booleans as 0 | 1.
 */
export interface OrganizationsTable {
  id: string
  name: string
  created_at: number
  /** The owner user made at bootstrap (admin keys without another owner act as this user). */
  owner_user_id: string | null
}

export interface ProjectsTable {
  id: string
  org_id: string
  name: string
  status: 'active' | 'archived'
  created_at: number
  archived_at: number | null
  /** OpenAI's project model permissions; null: every model */
  model_mode: 'allow_list' | 'deny_list' | null
  /** JSON array of model ids, with model_mode */
  model_ids: string | null
  /** 1: the dashboard's request log keeps this project's prompt and answer text (0015) */
  request_log_bodies: ColumnType<number, number | undefined, number>
}

export interface ApiKeysTable {
  id: string
  org_id: string
  /** null for admin keys */
  project_id: string | null
  kind: 'admin' | 'project'
  name: string
  /** sha256 hex of the secret; the secret itself is never stored */
  secret_hash: string
  redacted_value: string
  owner_type: 'user' | 'service_account' | 'system'
  owner_id: string | null
  /** JSON: { mode: 'all' | 'read_only' | 'restricted', scopes?: {...} } */
  permissions: string
  created_at: number
  last_used_at: number | null
}

export interface UsageRecordsTable extends UsageRecordUnitColumns {
  id: string
  org_id: string
  project_id: string
  api_key_id: string | null
  /** completions | embeddings | moderations | images | audio_speeches | audio_transcriptions */
  operation: string
  model: string
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  requests: number
  batch: number
  created_at: number
}

export interface ChatCompletionsTable {
  id: string
  project_id: string
  model: string
  created_at: number
  metadata: string
  /** JSON of the request messages (with ids assigned) */
  messages: string
  /** JSON of the ChatCompletion object */
  response: string
}

export interface FilesTable {
  id: string
  project_id: string
  bytes: number
  created_at: number
  /** null: kept until deleted */
  expires_at: number | null
  filename: string
  purpose: string
  /** the wire's (deprecated) status: uploaded | processed | error */
  status: string
  status_details: string | null
  /** content type served on download; null: guessed from the filename */
  mime_type: string | null
  /**
   * pending: the row was written before its blob was committed, and the file is invisible;
   * ready: the blob is in place. A crash between the two leaves a pending row for the sweep.
   */
  state: 'pending' | 'ready'
}

export interface UploadsTable {
  id: string
  project_id: string
  filename: string
  purpose: string
  /** the size declared at creation; the parts must add up to it */
  bytes: number
  mime_type: string
  status: 'pending' | 'completed' | 'cancelled' | 'expired'
  created_at: number
  expires_at: number
  /** expires_after.seconds for the File the upload becomes */
  file_expires_after: number | null
  file_id: string | null
}

export interface UploadPartsTable {
  id: string
  upload_id: string
  bytes: number
  created_at: number
}

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled'

/** A Batch (docs/batches.md). Timestamps are unix seconds; null until the batch gets there. */
export interface BatchesTable {
  id: string
  project_id: string
  org_id: string
  /** the key that created it: its lines run, and record usage, as this key */
  api_key_id: string | null
  endpoint: string
  input_file_id: string
  completion_window: string
  status: BatchStatus
  output_file_id: string | null
  error_file_id: string | null
  /** JSON: the wire's `errors` list (validation failures), or null */
  errors: string | null
  /** JSON metadata, or null */
  metadata: string | null
  request_total: number
  request_completed: number
  request_failed: number
  /** the batch.run job working on it now (a new one replaces a job that ended) */
  job_id: string | null
  created_at: number
  in_progress_at: number | null
  expires_at: number
  finalizing_at: number | null
  completed_at: number | null
  failed_at: number | null
  expired_at: number | null
  cancelling_at: number | null
  cancelled_at: number | null
  /** the model every line names, once validated (0020) */
  model: ColumnType<string | null, string | null | undefined, string | null>
  /** seconds the output and error files live, from `output_expires_after` (0020) */
  output_expires_after: ColumnType<number | null, number | null | undefined, number | null>
  /** the tokens of the lines with a result, added with request_counts: the object's `usage` (0020) */
  usage_input_tokens: ColumnType<number, number | undefined, number>
  usage_cached_tokens: ColumnType<number, number | undefined, number>
  usage_output_tokens: ColumnType<number, number | undefined, number>
}

export type BatchLineStatus = 'pending' | 'completed' | 'failed'

/**
 * One request line of a batch, written at validation and given its result once it has run: the
 * ledger that makes a retried job resume where it stopped and write each line exactly once.
 * Deleted when the batch ends (its results are in the output files by then).
 */
export interface BatchLinesTable {
  batch_id: string
  /** 1-based line number in the input file */
  line_no: number
  custom_id: string
  /** JSON of the line's body */
  request: string
  status: BatchLineStatus
  /** JSON of the output line (output file if completed, error file if failed), once run */
  result: string | null
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled'

/**
 * A background job (src/jobs, docs/jobs.md). `run_at` and `lease_expires_at` are unix
 * MILLISECONDS (leases and backoffs need sub-second precision); `created_at` and `updated_at` are
 * unix seconds like everywhere else.
 */
export interface JobsTable {
  id: string
  kind: string
  /** JSON, validated against the kind's schema when the job runs */
  payload: string
  status: JobStatus
  /** unix ms: not claimed before this (retries are pushed back by their backoff) */
  run_at: number
  /** claims so far, the current one included */
  attempts: number
  /** null until the first claim fills in the kind's default */
  max_attempts: number | null
  /** the runner holding the lease; after the job ends, the runner that ended it */
  lease_owner: string | null
  /** unix ms; a running job whose lease passes this is reclaimed */
  lease_expires_at: number | null
  last_error: string | null
  /** JSON written by the handler (counts, a checkpoint); kept across retries */
  progress: string | null
  created_at: number
  updated_at: number
}

/** Members of the organization (the Administration API's users). */
export interface UsersTable {
  id: string
  org_id: string
  /** lower-cased; unique within the organization */
  email: string
  name: string
  role: 'owner' | 'reader'
  added_at: number
}

/** Invites: no e-mail is sent; the one-time token (stored hashed) accepts the invite. */
export interface InvitesTable {
  id: string
  org_id: string
  email: string
  role: 'owner' | 'reader'
  /** pending | accepted; a pending invite past expires_at reads as expired */
  status: 'pending' | 'accepted'
  token_hash: string
  /** JSON: [{ id, role }] projects the user joins on accepting */
  projects: string
  invited_at: number
  expires_at: number
  accepted_at: number | null
  user_id: string | null
}

export interface ProjectUsersTable {
  project_id: string
  user_id: string
  role: 'owner' | 'member'
  added_at: number
}

export interface ServiceAccountsTable {
  id: string
  project_id: string
  name: string
  role: 'owner' | 'member'
  created_at: number
}

/** One audit log entry; `details` is the wire object under the event's type key. */
export interface AuditLogsTable {
  id: string
  org_id: string
  type: string
  effective_at: number
  project_id: string | null
  project_name: string | null
  actor_type: 'api_key' | 'session'
  /** the key that acted (api_key actors) */
  actor_key_id: string | null
  actor_owner_type: 'user' | 'service_account' | null
  /** user id or service account id */
  actor_owner_id: string | null
  actor_email: string | null
  actor_ip: string | null
  /** the object acted on (details.id) */
  resource_id: string | null
  /** JSON */
  details: string
}

/** An uploaded client certificate (the Certificates API). */
export interface CertificatesTable {
  id: string
  org_id: string
  /** null when uploaded without one */
  name: string | null
  /** the certificate in PEM, normalized to one block */
  content: string
  /** SHA-256 of the DER, lowercase hex without separators */
  fingerprint: string
  valid_at: number
  expires_at: number
  created_at: number
  /** active for the whole organization, 0 | 1 */
  active: number
}

/** A certificate active for one project. */
export interface ProjectCertificatesTable {
  project_id: string
  certificate_id: string
  activated_at: number
}

/** A Realtime session's ephemeral client secret (`ek_...`), by its hash (domain/realtime/ephemeral.ts). */
export interface RealtimeClientSecretsTable {
  secret_hash: string
  /** the API key that made it: its principal, as it is now, is the socket's */
  key_id: string
  kind: 'realtime' | 'transcription'
  /** JSON: the session configuration the secret was made for */
  session: string
  expires_at: number
}

export interface Database {
  organizations: OrganizationsTable
  realtime_client_secrets: RealtimeClientSecretsTable
  projects: ProjectsTable
  api_keys: ApiKeysTable
  usage_records: UsageRecordsTable
  usage_rollups: UsageRollupsTable
  project_rate_limits: ProjectRateLimitsTable
  spend_limits: SpendLimitsTable
  spend_alerts: SpendAlertsTable
  chat_completions: ChatCompletionsTable
  jobs: JobsTable
  batches: BatchesTable
  batch_lines: BatchLinesTable
  files: FilesTable
  uploads: UploadsTable
  upload_parts: UploadPartsTable
  users: UsersTable
  invites: InvitesTable
  project_users: ProjectUsersTable
  service_accounts: ServiceAccountsTable
  audit_logs: AuditLogsTable
  certificates: CertificatesTable
  project_certificates: ProjectCertificatesTable
  assistants: AssistantsTable
  threads: ThreadsTable
  messages: MessagesTable
  runs: RunsTable
  run_steps: RunStepsTable
  vector_stores: VectorStoresTable
  vector_store_files: VectorStoreFilesTable
  vector_store_file_batches: VectorStoreFileBatchesTable
  vector_store_usage_days: VectorStoreUsageDaysTable
  responses: ResponsesTable
  response_items: ResponseItemsTable
  conversations: ConversationsTable
  conversation_items: ConversationItemsTable
  fine_tuning_jobs: FineTuningJobsTable
  fine_tuning_events: FineTuningEventsTable
  fine_tuning_checkpoints: FineTuningCheckpointsTable
  fine_tuning_permissions: FineTuningPermissionsTable
  evals: EvalsTable
  eval_runs: EvalRunsTable
  eval_run_output_items: EvalRunOutputItemsTable
  containers: ContainersTable
  container_files: ContainerFilesTable
}
