import type {
  AssistantCreateV1,
  AssistantFileObject,
  AssistantCreateV2,
  AssistantObject,
  AssistantToolV1,
  AssistantToolV2,
  AssistantUpdateV1,
  AssistantUpdateV2,
  ToolResources,
} from '../../schemas/assistants.js'
import type {
  Attachment,
  MessageCreateV1,
  MessageCreateV2,
  MessageFileObject,
  MessageObject,
} from '../../schemas/messages.js'
import type {
  ThreadCreateV1,
  ThreadCreateV2,
  ThreadObject,
  ThreadUpdateV1,
  ThreadUpdateV2,
} from '../../schemas/threads.js'
import type { RunObject } from '../../schemas/runs.js'
import type { ApiVersion, AssistantRecord, MessageRecord, ThreadRecord } from './records.js'

/**
 * The one place where the two versions of the Assistants beta meet (docs/assistants.md):
 * requests of either version become the v2 form that is stored, and stored records are shown in
 * the version the request asked for.
 *
 * - tools: v1 `retrieval` is v2 `file_search` (its options do not exist in v1 and are dropped);
 * - assistant files: v1 `file_ids` are v2 `tool_resources.code_interpreter.file_ids` (file search
 *   in v2 goes through vector stores, which v1 cannot show);
 * - message files: v1 `file_ids` are v2 `attachments`, each for both file tools, as a v1 message
 *   file was available to code_interpreter and retrieval alike.
 */

export type Versioned<V1, V2> = { version: 'v1'; params: V1 } | { version: 'v2'; params: V2 }

export function toolsFromV1(tools: AssistantToolV1[]): AssistantToolV2[] {
  return tools.map((tool) => (tool.type === 'retrieval' ? { type: 'file_search' } : tool))
}

export function toolsToV1(tools: AssistantToolV2[]): AssistantToolV1[] {
  return tools.map((tool) => (tool.type === 'file_search' ? { type: 'retrieval' } : tool))
}

export function fileIdsOf(resources: ToolResources): string[] {
  return resources.code_interpreter?.file_ids ?? []
}

const V1_FILE_TOOLS: Attachment['tools'] = [{ type: 'code_interpreter' }, { type: 'file_search' }]

export function attachmentsFromFileIds(fileIds: readonly string[]): Attachment[] {
  return fileIds.map((file_id) => ({ file_id, tools: V1_FILE_TOOLS.map((t) => ({ ...t })) }))
}

/** A message's files in v1 terms: each attached file once, in order. */
export function fileIdsFromAttachments(attachments: readonly Attachment[]): string[] {
  return [...new Set(attachments.map((a) => a.file_id))]
}

// Requests → the stored (v2) form

export function assistantCreateInput(
  input: Versioned<AssistantCreateV1, AssistantCreateV2>,
): AssistantCreateV2 {
  if (input.version === 'v2') return input.params
  const { tools, file_ids, ...rest } = input.params
  return {
    ...rest,
    ...(tools ? { tools: toolsFromV1(tools) } : {}),
    ...(file_ids?.length ? { tool_resources: { code_interpreter: { file_ids } } } : {}),
  }
}

export function assistantUpdateInput(
  input: Versioned<AssistantUpdateV1, AssistantUpdateV2>,
): AssistantUpdateV2 {
  if (input.version === 'v2') return input.params
  const { tools, file_ids, ...rest } = input.params
  return {
    ...rest,
    ...(tools ? { tools: toolsFromV1(tools) } : {}),
    // v1: "a file previously attached but not in the list is removed from the assistant"
    ...(file_ids ? { tool_resources: { code_interpreter: { file_ids } } } : {}),
  }
}

export function messageCreateInput(
  input: Versioned<MessageCreateV1, MessageCreateV2>,
): MessageCreateV2 {
  if (input.version === 'v2') return input.params
  const { file_ids, ...rest } = input.params
  return { ...rest, attachments: attachmentsFromFileIds(file_ids ?? []) }
}

export function threadCreateInput(
  input: Versioned<ThreadCreateV1, ThreadCreateV2>,
): ThreadCreateV2 {
  if (input.version === 'v2') return input.params
  const { messages, ...rest } = input.params
  return {
    ...rest,
    ...(messages
      ? { messages: messages.map((params) => messageCreateInput({ version: 'v1', params })) }
      : {}),
  }
}

export function threadUpdateInput(
  input: Versioned<ThreadUpdateV1, ThreadUpdateV2>,
): ThreadUpdateV2 {
  return input.params
}

// Stored records → the wire object of the version asked for

export function assistantObject(a: AssistantRecord, version: ApiVersion): AssistantObject {
  const head = {
    id: a.id,
    object: 'assistant' as const,
    created_at: a.createdAt,
    name: a.name,
    description: a.description,
    model: a.model,
    instructions: a.instructions,
  }
  // unset sampling settings read as OpenAI shows them: 1, 1 and 'auto'
  const tail = {
    metadata: a.metadata,
    top_p: a.topP ?? 1,
    temperature: a.temperature ?? 1,
    response_format: a.responseFormat ?? ('auto' as const),
  }
  if (version === 'v1') {
    return { ...head, tools: toolsToV1(a.tools), file_ids: fileIdsOf(a.toolResources), ...tail }
  }
  return {
    ...head,
    tools: a.tools,
    tool_resources: a.toolResources,
    ...tail,
    reasoning_effort: a.reasoningEffort,
  }
}

export function threadObject(t: ThreadRecord, version: ApiVersion): ThreadObject {
  const object = {
    id: t.id,
    object: 'thread' as const,
    created_at: t.createdAt,
    metadata: t.metadata,
  }
  return version === 'v1' ? object : { ...object, tool_resources: t.toolResources }
}

export function messageObject(m: MessageRecord, version: ApiVersion): MessageObject {
  const head = {
    id: m.id,
    object: 'thread.message' as const,
    created_at: m.createdAt,
    assistant_id: m.assistantId,
    thread_id: m.threadId,
    run_id: m.runId,
    role: m.role,
    content: version === 'v1' ? m.content : m.content.map(withoutQuotes),
  }
  const files =
    version === 'v1'
      ? { file_ids: fileIdsFromAttachments(m.attachments) }
      : { attachments: m.attachments }
  return {
    ...head,
    ...files,
    metadata: m.metadata,
    status: m.status,
    incomplete_details: m.incompleteDetails,
    completed_at: m.completedAt,
    incomplete_at: m.incompleteAt,
  }
}

/** v2's file_citation names the file only; the stored one keeps v1's quote. */
function withoutQuotes(part: MessageObject['content'][number]): MessageObject['content'][number] {
  if (part.type !== 'text' || !part.text.annotations.length) return part
  const annotations = part.text.annotations.map((a) => {
    const annotation = a as Record<string, unknown> & { file_citation?: { file_id: string; quote?: string } }
    if (annotation.type !== 'file_citation' || !annotation.file_citation) return a
    return { ...annotation, file_citation: { file_id: annotation.file_citation.file_id } } as typeof a
  })
  return { ...part, text: { ...part.text, annotations } }
}

/** v1 only: a file of a message (created with the message). */
export function messageFileObject(m: MessageRecord, fileId: string): MessageFileObject {
  return { id: fileId, object: 'thread.message.file', created_at: m.createdAt, message_id: m.id }
}

/** v1 only: a file of an assistant (its code interpreter files in v2). */
export function assistantFileObject(a: AssistantRecord, fileId: string): AssistantFileObject {
  return {
    id: fileId,
    object: 'assistant.file',
    created_at: a.fileAttachedAt[fileId] ?? a.createdAt,
    assistant_id: a.id,
  }
}

/**
 * v1 runs: v1 tools (`retrieval`), the assistant's files as `file_ids`, and no `top_p` or
 * `parallel_tool_calls` (the v1 run object has neither). v1 has no `incomplete` status (its spec
 * has `incomplete_details` but not the status, and v1-era SDKs poll until one of their terminal
 * statuses): a run cut short is `completed` there, with `incomplete_details` saying why.
 */
export function runToV1(run: RunObject, fileIds: string[]): RunObject {
  const { top_p: _topP, parallel_tool_calls: _parallel, ...rest } = run
  void _topP
  void _parallel
  const status = run.status === 'incomplete' ? 'completed' : run.status
  return { ...rest, status, tools: toolsToV1(run.tools as AssistantToolV2[]), file_ids: fileIds }
}

/** A v1 run request in the stored (v2) form: its tools. */
export function runToolsFromV1(tools: AssistantToolV1[] | null | undefined) {
  return tools ? toolsFromV1(tools) : tools
}
