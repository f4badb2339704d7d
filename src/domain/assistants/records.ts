import type {
  AssistantResponseFormat,
  AssistantToolV2,
  ToolResources,
} from '../../schemas/assistants.js'
import type { Attachment, MessageContent } from '../../schemas/messages.js'
import type { AssistantRow } from '../../storage/repositories/assistants.js'
import type { MessageRow } from '../../storage/repositories/messages.js'
import type { ThreadRow } from '../../storage/repositories/threads.js'
import type { MessageStatus } from '../../storage/tables-assistants.js'

// Rows decoded into the one version-free model both API versions read (versions.ts renders them).
// The run engine works on these records too.

export type ApiVersion = 'v1' | 'v2'

export type AssistantRecord = {
  id: string
  projectId: string
  createdAt: number
  name: string | null
  description: string | null
  model: string
  instructions: string | null
  tools: AssistantToolV2[]
  toolResources: ToolResources
  /** when each code_interpreter file was attached (v1 AssistantFile.created_at) */
  fileAttachedAt: Record<string, number>
  metadata: Record<string, string>
  /** null: the default */
  temperature: number | null
  topP: number | null
  responseFormat: AssistantResponseFormat | null
  reasoningEffort: string | null
}

export type ThreadRecord = {
  id: string
  projectId: string
  createdAt: number
  toolResources: ToolResources
  metadata: Record<string, string>
  activeRunId: string | null
}

export type MessageRecord = {
  id: string
  projectId: string
  threadId: string
  createdAt: number
  role: 'user' | 'assistant'
  content: MessageContent[]
  attachments: Attachment[]
  metadata: Record<string, string>
  status: MessageStatus
  incompleteDetails: { reason: string } | null
  completedAt: number | null
  incompleteAt: number | null
  assistantId: string | null
  runId: string | null
}

export function assistantRecord(row: AssistantRow): AssistantRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    createdAt: row.created_at,
    name: row.name,
    description: row.description,
    model: row.model,
    instructions: row.instructions,
    tools: JSON.parse(row.tools),
    toolResources: JSON.parse(row.tool_resources),
    fileAttachedAt: JSON.parse(row.file_attached_at),
    metadata: JSON.parse(row.metadata),
    temperature: row.temperature,
    topP: row.top_p,
    responseFormat: row.response_format === null ? null : JSON.parse(row.response_format),
    reasoningEffort: row.reasoning_effort,
  }
}

export function assistantRow(record: AssistantRecord): AssistantRow {
  return {
    id: record.id,
    project_id: record.projectId,
    created_at: record.createdAt,
    name: record.name,
    description: record.description,
    model: record.model,
    instructions: record.instructions,
    tools: JSON.stringify(record.tools),
    tool_resources: JSON.stringify(record.toolResources),
    file_attached_at: JSON.stringify(record.fileAttachedAt),
    metadata: JSON.stringify(record.metadata),
    temperature: record.temperature,
    top_p: record.topP,
    response_format: record.responseFormat === null ? null : JSON.stringify(record.responseFormat),
    reasoning_effort: record.reasoningEffort,
  }
}

export function threadRecord(row: ThreadRow): ThreadRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    createdAt: row.created_at,
    toolResources: JSON.parse(row.tool_resources),
    metadata: JSON.parse(row.metadata),
    activeRunId: row.active_run_id,
  }
}

export function messageRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    threadId: row.thread_id,
    createdAt: row.created_at,
    role: row.role,
    content: JSON.parse(row.content),
    attachments: JSON.parse(row.attachments),
    metadata: JSON.parse(row.metadata),
    status: row.status,
    incompleteDetails: row.incomplete_details === null ? null : JSON.parse(row.incomplete_details),
    completedAt: row.completed_at,
    incompleteAt: row.incomplete_at,
    assistantId: row.assistant_id,
    runId: row.run_id,
  }
}

export function messageRow(record: MessageRecord): MessageRow {
  return {
    id: record.id,
    project_id: record.projectId,
    thread_id: record.threadId,
    created_at: record.createdAt,
    role: record.role,
    content: JSON.stringify(record.content),
    attachments: JSON.stringify(record.attachments),
    metadata: JSON.stringify(record.metadata),
    status: record.status,
    incomplete_details:
      record.incompleteDetails === null ? null : JSON.stringify(record.incompleteDetails),
    completed_at: record.completedAt,
    incomplete_at: record.incompleteAt,
    assistant_id: record.assistantId,
    run_id: record.runId,
    token_count: null,
  }
}
