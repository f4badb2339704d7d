import type { ToolResources } from '../../schemas/assistants.js'
import type { ChatCompletionCreateParams as ChatParams } from '../../schemas/chat.js'
import type { RunToolChoice } from '../../schemas/runs.js'
import type { Repos } from '../../storage/repositories/index.js'
import type { RunRow, RunStepRow } from '../../storage/repositories/runs.js'
import type { BuiltinTool, ToolScope } from '../tools/tool.js'
import { assistantRecord, threadRecord, type MessageRecord } from './records.js'

// The tools of a run's model turn: the user's functions and the built-in tools as functions.

type ChatTool = { type: 'function'; function: { name: string; description?: string; parameters?: unknown } }

/**
 * Where the run's built-in tools work, with the resources of the assistant (the run's snapshot
 * of its files), the thread, and the thread's message attachments, per tool.
 */
export async function runToolScope(
  repos: Repos,
  run: RunRow,
  messages: readonly Pick<MessageRecord, 'attachments'>[],
  turn = 0,
): Promise<ToolScope> {
  const row = await repos.threads.get(run.project_id, run.thread_id)
  const resources = row ? threadRecord(row).toolResources : {}
  // create-and-run's own stores, else the assistant's as they are now (a run keeps no copy of
  // them; a deleted assistant has none)
  const assistant = run.assistant_id ? await repos.assistants.get(run.project_id, run.assistant_id) : undefined
  const own: ToolResources | null = run.tool_resources ? JSON.parse(run.tool_resources) : null
  const assistantStores =
    own?.file_search?.vector_store_ids ??
    (assistant ? (assistantRecord(assistant).toolResources.file_search?.vector_store_ids ?? []) : [])
  const codeFiles = [
    ...(JSON.parse(run.file_ids) as string[]),
    ...(resources.code_interpreter?.file_ids ?? []),
  ]
  for (const message of messages) {
    for (const attachment of message.attachments) {
      if (attachment.tools.some((tool) => tool.type === 'code_interpreter')) codeFiles.push(attachment.file_id)
    }
  }
  return {
    projectId: run.project_id,
    threadId: run.thread_id,
    runId: run.id,
    model: run.model,
    turn,
    options: toolOptions(run),
    resources: {
      code_interpreter: { file_ids: [...new Set(codeFiles)] },
      file_search: { vector_store_ids: [...new Set([...assistantStores, ...(resources.file_search?.vector_store_ids ?? [])])] },
    },
  }
}

/** The options of each tool of the run, by type (`{ type: 'file_search', file_search: {...} }`). */
function toolOptions(run: RunRow): Record<string, Record<string, unknown>> {
  const options: Record<string, Record<string, unknown>> = {}
  for (const tool of JSON.parse(run.tools) as Record<string, unknown>[]) {
    const type = tool.type as string
    const own = tool[type]
    if (type !== 'function' && own && typeof own === 'object') options[type] = own as Record<string, unknown>
  }
  return options
}

/**
 * The chat tools of a turn: the run's functions, then each built-in tool as the function this
 * model calls it by. A user function named like a built-in one gives way to it.
 */
export async function chatTools(
  run: RunRow,
  builtins: readonly BuiltinTool[],
  scope: ToolScope,
): Promise<ChatTool[]> {
  const described = await Promise.all(builtins.map((tool) => tool.describe(run.model, scope)))
  const taken = new Set(described.map((d) => d.name))
  const functions = (JSON.parse(run.tools) as { type: string; function?: ChatTool['function'] }[])
    .filter((t) => t.type === 'function' && t.function && !taken.has(t.function.name))
    .map((t) => ({ type: 'function' as const, function: t.function! }))
  return [...functions, ...described.map((d) => ({ type: 'function' as const, function: d }))]
}

/**
 * The run's tool_choice in chat terms. A forced choice (`required`, a function, a built-in
 * tool) holds until the run has called a tool: then the model may answer, as OpenAI's
 * "must call one or more tools before responding" says (forcing it again would loop).
 */
export function chatToolChoice(
  stored: string | null,
  builtins: readonly BuiltinTool[],
  steps: readonly RunStepRow[],
): ChatParams['tool_choice'] {
  const choice: RunToolChoice | null = stored === null ? null : JSON.parse(stored)
  if (choice === null || choice === 'auto') return 'auto'
  if (choice === 'none') return 'none'
  if (steps.some((s) => s.type === 'tool_calls' && s.status === 'completed')) return 'auto'
  if (choice === 'required') return 'required'
  if (choice.type === 'function' && choice.function) {
    return { type: 'function', function: { name: choice.function.name } }
  }
  const builtin = builtins.find((tool) => tool.type === choice.type)
  return builtin ? { type: 'function', function: { name: builtin.functionName } } : 'required'
}
