import type { SavedContainerFile } from './code-containers.js'
import type { UsageEntry } from '../inference/usage.js'

/** A function as a chat model sees it (the `function` of a ChatCompletionTool). */
export type FunctionSpec = {
  name: string
  description: string
  parameters: Record<string, unknown>
}

/**
 * What a run lends its built-in tools: where they work (a tool's state lives per thread, as the
 * code interpreter's session does) and the resources of the assistant, the thread and the
 * messages' attachments, merged per tool.
 */
export type ToolScope = {
  projectId: string
  threadId: string
  runId: string
  model: string
  /** the run's steps so far: file search numbers its sources `【turn:n†file】` with it */
  turn?: number
  /** each built-in tool's options in the run's `tools` (e.g. `file_search.max_num_results`) */
  options?: Record<string, Record<string, unknown>>
  resources: {
    code_interpreter: { file_ids: string[] }
    file_search: { vector_store_ids: string[] }
  }
  /**
   * A Responses call's container (Containers API): the code runs in its session, with its files;
   * `auto`: the response's own, made on first use with `resources.code_interpreter.file_ids`.
   */
  container?: { id: string; auto: boolean }
}

/** One call of a built-in tool, as the model wrote it (a function call). */
export type BuiltinCall = { id: string; arguments: string }

/**
 * What the answer written after a call gets from it: image parts (file ids, shown as
 * `image_file` content before the text) and annotations on text the answer quotes
 * (`file_path` on a `sandbox:/mnt/data/...` link; `file_citation` for file search).
 */
export type AnswerParts = {
  images: string[]
  /** `quote`: what a file_citation cites (shown by v1 only, whose file_citation has one) */
  annotations: { type: 'file_path' | 'file_citation'; text: string; file_id: string; quote?: string }[]
}

/** A call's part of a tool_calls step (RunStepDetailsToolCalls*Object), or of its delta. */
export type StepToolCall = Record<string, unknown> & { type: string }

/** A built-in call that ran. */
export type ToolResult = {
  /** the call as its step shows it once done */
  stepCall: StepToolCall
  /** the step delta of what the call produced (its outputs), without `index` */
  resultDelta: StepToolCall
  /** the tool message the model reads */
  modelOutput: string
  /** billed with the turn that made the call (in its transaction) */
  usage: UsageEntry[]
  answer: AnswerParts
  /** the files the call wrote in its container (a Responses answer cites them) */
  containerFiles?: SavedContainerFile[]
}

/**
 * A tool OpenAI runs itself (docs/architecture.md, "Built-in tools"): one module per tool, and
 * the run executor (and later the Responses API) know them only through this interface.
 */
export interface BuiltinTool {
  /** The tool's type in a run's `tools` (the v2 name). */
  readonly type: string
  /** The function a model calls it as (every model sees a built-in tool as a function). */
  readonly functionName: string
  /**
   * How this model sees the tool: a function to call. Chat models (upstream, llama.cpp under its
   * tool-call grammar) call it like any function; test-scripted knows it by name (docs/models.md).
   */
  describe(model: string, scope: ToolScope): Promise<FunctionSpec>
  /** The call in a step while it is written or runs (no outputs yet). */
  toStepDetails(call: BuiltinCall): StepToolCall
  /**
   * The step delta for the arguments written so far: the first (`previous` null) introduces the
   * call; later ones carry only what is new. Undefined when nothing is new to show.
   */
  toStepDelta(call: BuiltinCall, previous: string | null): StepToolCall | undefined
  /**
   * Runs the call. What the call's input does wrong (an exception, a timeout) is a result the
   * model reads, never a rejection; rejects only when the tool cannot run at all (the message
   * says why, and becomes the run's last_error).
   */
  execute(call: BuiltinCall, scope: ToolScope, signal: AbortSignal): Promise<ToolResult>
  /**
   * The call as a Responses output item (`file_search_call`, `code_interpreter_call`), without
   * its id: `in_progress` before it ran (`result` null), then `completed` with what it found.
   * `include` is the request's `include[]` (results and outputs are shown only when asked).
   */
  toOutputItem(call: BuiltinCall, result: ToolResult | null, include: readonly string[]): OutputItemFields
}

/** A built-in call's Responses output item, but its id (the Responses domain gives it one). */
export type OutputItemFields = Record<string, unknown> & { type: string; status: string }
