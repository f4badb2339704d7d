import type { FunctionToolCall } from '../../schemas/runs.js'
import { builtinNamed } from '../tools/registry.js'
import type { BuiltinTool, StepToolCall, ToolResult } from '../tools/tool.js'
import type { StepToolData } from './run-answer.js'

/** A tool call of the model's turn as it streams, and, for a built-in one, what it did. */
export type ToolCallDraft = {
  id: string
  name: string
  arguments: string
  /** the built-in tool it calls; none: a function of the user (requires_action) */
  tool?: BuiltinTool
  result?: ToolResult
}

/** A tool call's part of a chat chunk. */
export type ChunkToolCall = {
  index: number
  id?: string
  function?: { name?: string; arguments?: string }
}

/**
 * The model's tool call deltas in a step's order (first appearance), each merged into its
 * draft, and the `thread.run.step.delta` parts they make.
 */
export class ToolCallDrafts {
  readonly calls: ToolCallDraft[] = []
  /** the model's tool call index → the call's index in the step */
  private readonly indexOf = new Map<number, number>()

  constructor(private readonly builtins: readonly BuiltinTool[]) {}

  add(parts: readonly ChunkToolCall[]): StepToolCall[] {
    const deltas: StepToolCall[] = []
    for (const part of parts) {
      let index = this.indexOf.get(part.index)
      const first = index === undefined
      if (index === undefined) {
        index = this.calls.length
        this.indexOf.set(part.index, index)
        this.calls.push({ id: '', name: '', arguments: '' })
      }
      const draft = this.calls[index]!
      const previous = draft.arguments
      if (part.id) draft.id = part.id
      if (part.function?.name) draft.name += part.function.name
      if (part.function?.arguments) draft.arguments += part.function.arguments
      // the name comes whole with a call's first delta, as OpenAI and Plinth's providers send it
      if (first) draft.tool = builtinNamed(this.builtins, draft.name)
      if (draft.tool) {
        const delta = draft.tool.toStepDelta(draft, first ? null : previous)
        if (delta) deltas.push({ index, ...delta })
        continue
      }
      deltas.push({
        index,
        ...(part.id ? { id: part.id } : {}),
        type: 'function',
        function: {
          ...(part.function?.name ? { name: part.function.name } : {}),
          arguments: part.function?.arguments ?? '',
          ...(first ? { output: null } : {}),
        },
      })
    }
    return deltas
  }

  /** The calls of the user's functions: what requires_action asks for. */
  functionCalls(): FunctionToolCall[] {
    return this.calls
      .filter((c) => !c.tool)
      .map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }))
  }

  /** The step's step_details: built-in calls with their outputs once run, functions without. */
  stepDetails(): string {
    return JSON.stringify({
      type: 'tool_calls',
      tool_calls: this.calls.map((c) =>
        c.tool
          ? (c.result?.stepCall ?? c.tool.toStepDetails(c))
          : { id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments, output: null } },
      ),
    })
  }

  /** The step's tool_data: what the built-in calls that ran leave for later turns. */
  toolData(): string | null {
    const ran = this.calls.filter((c) => c.tool && c.result)
    if (!ran.length) return null
    const data: StepToolData = {
      calls: Object.fromEntries(
        ran.map((c) => [
          c.id,
          { name: c.name, arguments: c.arguments, output: c.result!.modelOutput, answer: c.result!.answer },
        ]),
      ),
    }
    return JSON.stringify(data)
  }
}
