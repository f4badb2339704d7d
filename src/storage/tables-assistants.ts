import type { ColumnType } from 'kysely'

/**
 * Assistants, threads and messages (migration 0007, docs/assistants.md). One storage model serves
 * both API versions: columns hold the v2 form, and domain/assistants/versions.ts maps v1 to and
 * from it. JSON lives in text columns; timestamps are unix seconds.
 */

export interface AssistantsTable {
  id: string
  project_id: string
  created_at: number
  name: string | null
  description: string | null
  model: string
  instructions: string | null
  /** JSON array of v2 tools; v1's `retrieval` is stored as `file_search` */
  tools: string
  /**
   * JSON: v2 `tool_resources`
   * ({ code_interpreter?: { file_ids }, file_search?: { vector_store_ids } }).
   * v1 `file_ids` are code_interpreter.file_ids.
   */
  tool_resources: string
  /** JSON { file_id: unix seconds }: when each file was attached (v1 AssistantFile.created_at) */
  file_attached_at: string
  /** JSON object of string pairs */
  metadata: string
  /** null: the default (1) */
  temperature: number | null
  /** null: the default (1) */
  top_p: number | null
  /** JSON of response_format; null: 'auto' */
  response_format: string | null
  reasoning_effort: string | null
}

export interface ThreadsTable {
  id: string
  project_id: string
  created_at: number
  /** JSON: v2 `tool_resources`, as for assistants */
  tool_resources: string
  metadata: string
  /**
   * The run engine's lock on the thread: the id of its queued, in-progress or requires_action run,
   * null when none. Set with a conditional update (only while null); messages cannot be added
   * while it is set (errors.md G7), and a second run cannot start (G6).
   */
  active_run_id: string | null
  /**
   * Kept by triggers on messages (migration 0018), never written here: the messages ever
   * inserted, and those deleted or rewritten once finished. A run's prompt cache checks them.
   */
  messages_added: ColumnType<number, never, never>
  messages_changed: ColumnType<number, never, never>
}

export type MessageStatus = 'in_progress' | 'incomplete' | 'completed'

export interface MessagesTable {
  id: string
  project_id: string
  thread_id: string
  created_at: number
  role: 'user' | 'assistant'
  /** JSON array of the wire's content parts (text, image_file, image_url, refusal) */
  content: string
  /** JSON array of v2 attachments ({ file_id, tools }); v1 `file_ids` map to these */
  attachments: string
  metadata: string
  status: MessageStatus
  /** JSON { reason } or null */
  incomplete_details: string | null
  completed_at: number | null
  incomplete_at: number | null
  /** the assistant that wrote it (messages of runs), or null */
  assistant_id: string | null
  /** the run that wrote it, or null for messages created through the API */
  run_id: string | null
  /**
   * its tokens as a message of a chat prompt (framing included), once a run's prompt counted it;
   * null: not counted yet, or its content changed since
   */
  token_count: number | null
}
