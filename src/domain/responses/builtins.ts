import { responsesToolNotServed } from '../../errors.js'
import type { ChatCompletionCreateParams, Tool } from '../../schemas/chat.js'
import type { ResponseCreateParams } from '../../schemas/responses.js'
import type { BuiltinTool, ToolRegistry, ToolScope } from '../tools/index.js'

/** A response's built-in tools: what the model is offered, and where the calls run. */
export type Builtins = {
  tools: BuiltinTool[]
  scope: ToolScope
  /** each as the function the model calls */
  functions: Tool[]
}

/** How many times one response may run built-in tools before the model must answer. */
export const MAX_BUILTIN_TURNS = 8

/**
 * The request's built-in tools (`file_search`, `code_interpreter`) as the tool registry runs them
 * for Assistants runs: a tool the registry lacks is refused, named. The code interpreter's
 * session is its container: a named one (`container: "cntr_..."`), or one of the response's own.
 */
export async function responseBuiltins(
  registry: ToolRegistry | undefined,
  params: ResponseCreateParams,
  projectId: string,
  responseId: string,
  containers?: { check(projectId: string, id: string): Promise<void> },
): Promise<Builtins | null> {
  const tools: BuiltinTool[] = []
  const scope: ToolScope = {
    projectId,
    threadId: `cntr_${responseId.slice('resp_'.length)}`,
    runId: responseId,
    model: params.model,
    options: {},
    resources: { code_interpreter: { file_ids: [] }, file_search: { vector_store_ids: [] } },
  }
  for (const [i, spec] of (params.tools ?? []).entries()) {
    if (spec.type === 'function') continue
    const tool = registry?.get(spec.type)
    if (!tool) throw responsesToolNotServed(spec.type, `tools[${i}].type`)
    const options = spec as Record<string, unknown>
    if (spec.type === 'file_search') {
      scope.resources.file_search.vector_store_ids.push(...((options.vector_store_ids as string[] | undefined) ?? []))
      scope.options!.file_search = { max_num_results: options.max_num_results, ranking_options: options.ranking_options, filters: options.filters }
    } else if (spec.type === 'code_interpreter') {
      const container = options.container as string | { type: 'auto'; file_ids?: string[] } | undefined
      if (typeof container === 'string') {
        // a named container must be the project's and not expired, before the model runs
        await containers?.check(projectId, container)
        scope.threadId = container
        scope.container = { id: container, auto: false }
      } else {
        scope.resources.code_interpreter.file_ids.push(...(container?.file_ids ?? []))
        scope.container = { id: scope.threadId, auto: true }
      }
    }
    if (!tools.includes(tool)) tools.push(tool)
  }
  if (!tools.length) return null
  const functions = await Promise.all(tools.map(async (tool): Promise<Tool> => ({ type: 'function', function: await tool.describe(params.model, scope) })))
  return { tools, scope, functions }
}

/**
 * The chat call once the response has run `max_tool_calls` built-in calls: the model is no
 * longer offered them (its function tools stay), so it answers with what it has.
 */
export function withoutBuiltins(chat: ChatCompletionCreateParams, builtins: Builtins): ChatCompletionCreateParams {
  const names = new Set(builtins.tools.map((tool) => tool.functionName))
  const { tools: all, tool_choice, parallel_tool_calls, ...rest } = chat
  const tools = (all ?? []).filter((tool) => !names.has(tool.function.name))
  // chat refuses tool_choice and parallel_tool_calls without tools
  if (!tools.length) return rest
  const named = tool_choice && typeof tool_choice === 'object' && names.has(tool_choice.function.name)
  const request: ChatCompletionCreateParams = { ...rest, tools }
  if (tool_choice !== undefined) request.tool_choice = named ? 'auto' : tool_choice
  if (parallel_tool_calls !== undefined) request.parallel_tool_calls = parallel_tool_calls
  return request
}
