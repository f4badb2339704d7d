import {
  ChatCompletionCreateParams,
  type ChatCompletionCreateParams as ChatParams,
} from '../../schemas/chat.js'
import type { Usage } from '../../schemas/runs.js'
import type { Repos } from '../../storage/repositories/index.js'
import type { RunRow, RunStepRow } from '../../storage/repositories/runs.js'
import type { ToolRegistry } from '../tools/registry.js'
import type { BuiltinTool, ToolScope } from '../tools/tool.js'
import { messageRecord, type MessageRecord } from './records.js'
import type { PromptCache } from './prompt-cache.js'
import { buildPrompt } from './run-prompt.js'
import { threadPages } from './run-thread.js'
import { chatToolChoice, chatTools, runToolScope } from './run-tools.js'

/** What a model turn asks the model, and what it found to ask it. */
export type TurnRequest = {
  /** undefined: the prompt does not fit max_prompt_tokens (the run ends incomplete) */
  params?: ChatParams
  promptTokens: number
  /** the run's usage before this turn */
  soFar: Usage | null
  /** completion tokens left (max_completion_tokens), null: no limit */
  budget: number | null
  steps: RunStepRow[]
  ownMessages: Map<string, MessageRecord>
  builtins: BuiltinTool[]
  scope: ToolScope
}

/**
 * The chat request of a run's next model turn (docs/assistants.md, "The prompt"). `contextLength`:
 * the model's context, when it declares one (`auto` truncation fits the prompt into it).
 */
export async function turnRequest(
  repos: Repos,
  registry: ToolRegistry,
  run: RunRow,
  options: { contextLength?: number; signal?: AbortSignal; prompts?: PromptCache } = {},
): Promise<TurnRequest> {
  const own = (await repos.messages.ofRun(run.project_id, run.thread_id, run.id)).map(messageRecord)
  const ownMessages = new Map(own.map((m) => [m.id, m]))
  const steps = await repos.runSteps.all(run.project_id, run.id)
  const { builtins } = registry.forRun(JSON.parse(run.tools))
  // only the messages with attachments matter to the tools (a partial index finds them)
  const attached = (await repos.messages.withAttachments(run.project_id, run.thread_id)).map((row) => ({
    attachments: JSON.parse(row.attachments) as MessageRecord['attachments'],
  }))
  const scope = await runToolScope(repos, run, attached, steps.length)
  const tools = await chatTools(run, builtins, scope)
  const soFar: Usage | null = run.usage ? JSON.parse(run.usage) : null
  const budget =
    run.max_completion_tokens === null ? null : run.max_completion_tokens - (soFar?.completion_tokens ?? 0)
  // the prompt leaves room for the completion asked for, and at least a token
  const context = options.contextLength
  const prompt = await buildPrompt({
    instructions: run.instructions,
    thread: threadPages(repos, run.project_id, run.thread_id, run.id, options.prompts),
    steps,
    ownMessages,
    truncation: JSON.parse(run.truncation_strategy),
    maxPromptTokens: run.max_prompt_tokens,
    contextTokens: context === undefined ? undefined : context - Math.max(1, budget ?? 0),
    tools,
    signal: options.signal,
  })
  const base = { promptTokens: prompt.tokens, soFar, budget, steps, ownMessages, builtins, scope }
  const limit = run.max_prompt_tokens
  if (!prompt.fits || (limit !== null && (soFar?.prompt_tokens ?? 0) + prompt.tokens > limit)) return base
  const params = ChatCompletionCreateParams.parse({
    model: run.model,
    messages: prompt.messages,
    ...(tools.length
      ? {
          tools,
          tool_choice: chatToolChoice(run.tool_choice, builtins, steps),
          parallel_tool_calls: run.parallel_tool_calls === 1,
        }
      : {}),
    ...(run.temperature !== null ? { temperature: run.temperature } : {}),
    ...(run.top_p !== null ? { top_p: run.top_p } : {}),
    ...(run.response_format && JSON.parse(run.response_format) !== 'auto'
      ? { response_format: JSON.parse(run.response_format) }
      : {}),
    ...(budget !== null ? { max_completion_tokens: Math.max(1, budget) } : {}),
    stream: true,
    stream_options: { include_usage: true },
  }) as ChatParams
  return { ...base, params }
}
