/**
 * The Kysely `Database` interface. Conventions (so migrations need no dialect branches):
 * app-made text ids, integer unix-second timestamps, JSON in text columns, booleans as 0 | 1.
 */
export interface OrganizationsTable {
  id: string
  name: string
  created_at: number
}

export interface ProjectsTable {
  id: string
  org_id: string
  name: string
  status: 'active' | 'archived'
  created_at: number
  archived_at: number | null
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

export interface UsageRecordsTable {
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

export interface Database {
  organizations: OrganizationsTable
  projects: ProjectsTable
  api_keys: ApiKeysTable
  usage_records: UsageRecordsTable
  chat_completions: ChatCompletionsTable
}
