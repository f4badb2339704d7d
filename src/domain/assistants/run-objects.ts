import type { RunObject, RunStepObject, Usage } from '../../schemas/runs.js'
import type { RunRow, RunStepRow } from '../../storage/repositories/runs.js'
import type { RunStatus } from '../../storage/tables-runs.js'
import type { ApiVersion } from './records.js'
import { withoutContent } from '../tools/file-search.js'
import { runToV1 } from './versions.js'

/** Stored runs and steps → the wire objects (v2; versions.ts maps them to v1). */

export const TERMINAL: readonly RunStatus[] = [
  'cancelled',
  'failed',
  'completed',
  'incomplete',
  'expired',
]

const ENDED_WITHOUT_DEADLINE: readonly RunStatus[] = ['cancelled', 'failed', 'completed', 'incomplete']

const parse = <T>(text: string | null): T | null => (text === null ? null : JSON.parse(text))

export function runObject(row: RunRow, version: ApiVersion): RunObject {
  const run: RunObject = {
    id: row.id,
    object: 'thread.run',
    created_at: row.created_at,
    thread_id: row.thread_id,
    assistant_id: row.assistant_id,
    status: row.status,
    required_action: parse(row.required_action),
    last_error: parse(row.last_error),
    // OpenAI's ended runs show no deadline (an expired run keeps the one it missed)
    expires_at: ENDED_WITHOUT_DEADLINE.includes(row.status) ? null : row.expires_at,
    started_at: row.started_at,
    cancelled_at: row.cancelled_at,
    failed_at: row.failed_at,
    completed_at: row.completed_at,
    incomplete_details: parse(row.incomplete_details),
    model: row.model,
    instructions: row.instructions,
    tools: JSON.parse(row.tools),
    metadata: JSON.parse(row.metadata),
    // the spec: null until the run is in a terminal state
    usage: TERMINAL.includes(row.status) ? (parse<Usage>(row.usage) ?? zeroUsage()) : null,
    temperature: row.temperature ?? 1,
    top_p: row.top_p ?? 1,
    max_prompt_tokens: row.max_prompt_tokens,
    max_completion_tokens: row.max_completion_tokens,
    truncation_strategy: JSON.parse(row.truncation_strategy),
    tool_choice: parse(row.tool_choice) ?? 'auto',
    parallel_tool_calls: row.parallel_tool_calls === 1,
    response_format: parse(row.response_format) ?? 'auto',
  }
  return version === 'v1' ? runToV1(run, JSON.parse(row.file_ids)) : run
}

/** What a step shows: file search results' content (`include[]`), v1's names. */
export type StepView = { content?: boolean; version?: ApiVersion }

/**
 * A stored step as the wire shows it. Events carry it whole (content included, v2 names): the
 * stream's request trims it to its own view (`streamView`).
 */
export function runStepObject(row: RunStepRow, view: StepView = { content: true }): RunStepObject {
  return {
    id: row.id,
    object: 'thread.run.step',
    created_at: row.created_at,
    assistant_id: row.assistant_id,
    thread_id: row.thread_id,
    run_id: row.run_id,
    type: row.type,
    status: row.status,
    step_details: stepDetails(JSON.parse(row.step_details), view) as RunStepObject['step_details'],
    last_error: parse(row.last_error),
    expired_at: row.expired_at,
    cancelled_at: row.cancelled_at,
    failed_at: row.failed_at,
    completed_at: row.completed_at,
    metadata: JSON.parse(row.metadata),
    // the spec: null while the step is in progress
    usage: row.status === 'in_progress' ? null : parse(row.usage),
  }
}

export function zeroUsage(): Usage {
  return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  const base = a ?? zeroUsage()
  return {
    prompt_tokens: base.prompt_tokens + b.prompt_tokens,
    completion_tokens: base.completion_tokens + b.completion_tokens,
    total_tokens: base.total_tokens + b.total_tokens,
  }
}

type Details = { type: string; tool_calls?: Record<string, unknown>[] }

/**
 * file_search calls keep their results' content; it is shown only when `include[]` asks for it.
 * v1 calls the tool `retrieval`, with no details (`retrieval: {}`).
 */
function stepDetails(details: Details, view: StepView): Details {
  if (details.type !== 'tool_calls' || !details.tool_calls) return details
  const calls = details.tool_calls.map((call) => {
    if (call.type !== 'file_search') return call
    if (view.version === 'v1') {
      const { file_search: _fileSearch, ...rest } = call
      return { ...rest, type: 'retrieval', retrieval: {} }
    }
    const fileSearch = call.file_search as { results?: { content?: unknown }[] }
    return view.content ? call : { ...call, file_search: withoutContent(fileSearch) }
  })
  return { ...details, tool_calls: calls }
}

/** A run's event as a streamed request sees it: its steps in its view (see runStepObject). */
export function streamView<E extends { event: string; data: unknown }>(event: E, view: StepView): E {
  if (!event.event.startsWith('thread.run.step.')) return event
  const data = event.data as { object?: string; step_details?: Details; delta?: { step_details?: Details } }
  if (data.object === 'thread.run.step' && data.step_details) {
    return { ...event, data: { ...data, step_details: stepDetails(data.step_details, view) } }
  }
  if (data.object === 'thread.run.step.delta' && data.delta?.step_details) {
    return { ...event, data: { ...data, delta: { ...data.delta, step_details: stepDetails(data.delta.step_details, view) } } }
  }
  return event
}
