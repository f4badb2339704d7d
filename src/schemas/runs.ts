import { z } from 'zod'
import {
  AssistantResponseFormat,
  AssistantToolV1,
  AssistantToolV2,
  AssistantsListQuery,
  ToolResourcesUpdate,
  type AssistantToolObject,
  type ToolResources,
} from './assistants.js'
import { MessageCreateV1, MessageCreateV2 } from './messages.js'
import { Metadata } from './shared.js'
import { ThreadCreateV1, ThreadCreateV2 } from './threads.js'

// Wire contract of runs and run steps, v2 (openai-openapi.yaml) and v1 (2024-04-15 file).

export const TruncationStrategy = z.strictObject({
  type: z.enum(['auto', 'last_messages']),
  last_messages: z.number().int().min(1).nullish(),
})
export type TruncationStrategy = z.output<typeof TruncationStrategy>

export const RunToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({
    type: z.enum(['function', 'code_interpreter', 'file_search', 'retrieval']),
    function: z.strictObject({ name: z.string() }).optional(),
  }),
])
export type RunToolChoice = z.output<typeof RunToolChoice>

/** Settings a run takes over the assistant's, in both versions. */
const overrides = {
  assistant_id: z.string(),
  model: z.string().nullish(),
  instructions: z.string().nullish(),
  metadata: Metadata.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  max_prompt_tokens: z.number().int().min(256).nullish(),
  max_completion_tokens: z.number().int().min(256).nullish(),
  truncation_strategy: TruncationStrategy.nullish(),
  tool_choice: RunToolChoice.nullish(),
  response_format: AssistantResponseFormat.nullish(),
}

const v2Only = {
  top_p: z.number().min(0).max(1).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  reasoning_effort: z.enum(['low', 'medium', 'high']).nullish(),
  tools: z.array(AssistantToolV2).max(20).nullish(),
}

export const RunCreateV2 = z.strictObject({
  ...overrides,
  ...v2Only,
  additional_instructions: z.string().nullish(),
  additional_messages: z.array(MessageCreateV2).nullish(),
})
export type RunCreateV2 = z.output<typeof RunCreateV2>

export const RunCreateV1 = z.strictObject({
  ...overrides,
  tools: z.array(AssistantToolV1).max(20).nullish(),
  additional_instructions: z.string().nullish(),
  additional_messages: z.array(MessageCreateV1).nullish(),
})
export type RunCreateV1 = z.output<typeof RunCreateV1>

export const ThreadAndRunCreateV2 = z.strictObject({
  ...overrides,
  ...v2Only,
  thread: ThreadCreateV2.optional(),
  // the spec's: files and vector store ids, no `vector_stores` helper (that is the thread's)
  tool_resources: ToolResourcesUpdate.nullish(),
})
export type ThreadAndRunCreateV2 = z.output<typeof ThreadAndRunCreateV2>

export const ThreadAndRunCreateV1 = z.strictObject({
  ...overrides,
  tools: z.array(AssistantToolV1).max(20).nullish(),
  thread: ThreadCreateV1.optional(),
})
export type ThreadAndRunCreateV1 = z.output<typeof ThreadAndRunCreateV1>

export const RunUpdate = z.strictObject({ metadata: Metadata.nullish() })
export type RunUpdate = z.output<typeof RunUpdate>

export const SubmitToolOutputs = z.strictObject({
  tool_outputs: z.array(
    z.strictObject({ tool_call_id: z.string().optional(), output: z.string().optional() }),
  ),
  stream: z.boolean().nullish(),
})
export type SubmitToolOutputs = z.output<typeof SubmitToolOutputs>

const Include = z
  .array(z.enum(['step_details.tool_calls[*].file_search.results[*].content']))
  .optional()

/** createRun's query: `include[]` names file search result content (shown by a streamed run's steps). */
export const RunCreateQuery = z.strictObject({ include: Include })

export const RunsListQuery = AssistantsListQuery

export const RunStepsListQuery = AssistantsListQuery.extend({ include: Include })
export type RunStepsListQuery = z.output<typeof RunStepsListQuery>

export const RunStepGetQuery = z.strictObject({ include: Include })

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number }

export type FunctionToolCall = {
  id: string
  type: 'function'
  function: { name: string; arguments: string; output?: string | null }
}

/** A built-in tool's call in a step (code_interpreter, file_search): its own shape. */
export type BuiltinToolCall = { id: string; type: 'code_interpreter' | 'file_search'; [key: string]: unknown }

/** The wire's run (v1: file_ids and v1 tools; v2: top_p, parallel_tool_calls). */
export type RunObject = {
  id: string
  object: 'thread.run'
  created_at: number
  thread_id: string
  assistant_id: string
  status: string
  required_action: {
    type: 'submit_tool_outputs'
    submit_tool_outputs: { tool_calls: FunctionToolCall[] }
  } | null
  last_error: { code: string; message: string } | null
  expires_at: number | null
  started_at: number | null
  cancelled_at: number | null
  failed_at: number | null
  completed_at: number | null
  incomplete_details: { reason: string } | null
  model: string
  instructions: string
  tools: AssistantToolObject[]
  file_ids?: string[]
  tool_resources?: ToolResources
  metadata: Record<string, string>
  usage: Usage | null
  temperature: number
  top_p?: number
  max_prompt_tokens: number | null
  max_completion_tokens: number | null
  truncation_strategy: TruncationStrategy
  tool_choice: RunToolChoice
  parallel_tool_calls?: boolean
  response_format: AssistantResponseFormat
}

export type StepDetails =
  | { type: 'message_creation'; message_creation: { message_id: string } }
  | { type: 'tool_calls'; tool_calls: (FunctionToolCall | BuiltinToolCall)[] }

export type RunStepObject = {
  id: string
  object: 'thread.run.step'
  created_at: number
  assistant_id: string
  thread_id: string
  run_id: string
  type: 'message_creation' | 'tool_calls'
  status: string
  step_details: StepDetails
  last_error: { code: string; message: string } | null
  expired_at: number | null
  cancelled_at: number | null
  failed_at: number | null
  completed_at: number | null
  metadata: Record<string, string>
  usage: Usage | null
}
