import type { ProjectPrincipal } from '../../principal.js'
import type { Usage } from '../../schemas/runs.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { ChatService } from '../inference/chat.js'
import { chunkObjects } from '../inference/serialized.js'
import { usageRow, type UsageEntry } from '../inference/usage.js'
import type { ToolRegistry } from '../tools/registry.js'
import type { AnswerParts } from '../tools/tool.js'
import type { ApiVersion, MessageRecord } from './records.js'
import { answerContent, annotationDeltas, pendingAnswer } from './run-answer.js'
import type { RunEvent, TurnEnd } from './run-events.js'
import { finishRun } from './run-finish.js'
import { addUsage, runStepObject } from './run-objects.js'
import { turnRequest } from './run-request.js'
import { messagePatch, newStep, startMessage } from './run-steps.js'
import { ToolCallDrafts, type ChunkToolCall } from './run-tool-calls.js'
import { endToolTurn } from './run-tool-step.js'
import { messageObject } from './versions.js'
import type { PromptCache } from './prompt-cache.js'

export type TurnDeps = {
  storage: Storage
  chat: Pick<ChatService, 'chunks'>
  tools: ToolRegistry
  /** the model's context, when it declares one (the prompt is truncated to fit it) */
  contextOf?: (model: string) => number | undefined
  /** the converted messages of long threads, kept for their next prompt */
  prompts?: PromptCache
}

export type TurnInput = {
  run: RunRow
  signal: AbortSignal
  version: ApiVersion
  principal: ProjectPrincipal
  /** the turn's usage rows: written with the run's move, or by the caller when the run fails */
  usage: UsageRecordInsert[]
}

/**
 * `continue`: the model called built-in tools only, which ran; the next turn answers with their
 * results. `done`: the run moved on (completed, requires_action, incomplete).
 */
export type TurnOutcome = 'continue' | 'done'

type ChatChunk = {
  choices?: {
    delta?: { content?: string | null; tool_calls?: ChunkToolCall[] }
    finish_reason?: string | null
  }[]
  usage?: Usage | null
}

/**
 * One model call of a run: a message, tool calls, or both. Built-in tool calls run here, their
 * outputs streamed as step deltas; calls of the user's functions make the run requires_action.
 */
export async function* runTurn(deps: TurnDeps, input: TurnInput): AsyncGenerator<RunEvent, TurnOutcome> {
  const { run, signal, version, principal } = input
  const repos = createRepos(deps.storage.db)
  const request = await turnRequest(repos, deps.tools, run, {
    contextLength: deps.contextOf?.(run.model),
    signal,
    prompts: deps.prompts,
  })
  const { params, soFar, budget, steps, ownMessages, builtins, scope } = request
  if (!params) {
    const details = JSON.stringify({ reason: 'max_prompt_tokens' })
    yield* finishRun(deps.storage, run, 'incomplete', { incomplete_details: details }, version)
    return 'done'
  }

  // the answer's images and annotations come from the built-in calls before it
  const answer = pendingAnswer(steps, ownMessages.values())
  let message: MessageRecord | null = null
  let messageStepId: string | null = null
  let text = ''
  /** annotations already streamed (the deltas carry each once, with its index) */
  let annotated = 0
  const drafts = new ToolCallDrafts(builtins)
  let toolStepId: string | null = null
  let finish: string | null = null
  let usage: Usage | null = null
  // the model call's usage comes back here instead of the recorder: it is written with the turn
  const usageSink = (entry: UsageEntry) => {
    const row = usageRow(principal, entry)
    if (row) input.usage.push(row)
  }
  try {
    // an upstream's chunks come as its own SSE frames (the passthrough): parsed here
    const chunks = chunkObjects(deps.chat.chunks(principal, params, { signal, usageSink }))
    for await (const chunk of chunks as AsyncIterable<ChatChunk>) {
      if (chunk.usage) usage = chunk.usage
      const choice = chunk.choices?.[0]
      if (!choice) continue
      const content = choice.delta?.content
      if (content) {
        if (!message) {
          const started = yield* openMessage(deps.storage, run, version, answer)
          message = started.message
          messageStepId = started.stepId
        }
        text += content
        const found = annotationDeltas(text, answer, annotated, false)
        annotated += found.length
        yield textDelta(message.id, answer.images.length, content, found)
      }
      const deltas = drafts.add(choice.delta?.tool_calls ?? [])
      if (deltas.length) {
        if (!toolStepId) toolStepId = yield* openToolStep(deps.storage, run)
        yield stepDelta(toolStepId, deltas)
      }
      if (choice.finish_reason) finish = choice.finish_reason
    }
    signal.throwIfAborted()
    // what the text's end held back (a path that might have gone on) is known now
    const rest = message ? annotationDeltas(text, answer, annotated, true) : []
    if (message && rest.length) {
      annotated += rest.length
      yield messageDelta(message.id, [{ index: answer.images.length, type: 'text', text: { annotations: rest } }])
    }
    const cutOff = finish === 'length' && budget !== null
    // built-in calls run once the model is done writing them, one after another, in order
    if (!cutOff) {
      for (const [index, call] of drafts.calls.entries()) {
        if (!call.tool) continue
        call.result = await call.tool.execute(call, scope, signal)
        for (const entry of call.result.usage) usageSink(entry)
        yield stepDelta(toolStepId!, [{ index, ...call.result.resultDelta }])
      }
    }
    // an answer without text still shows the images made before it
    if (!message && !drafts.calls.length && answer.images.length) {
      const started = yield* openMessage(deps.storage, run, version, answer)
      message = started.message
      messageStepId = started.stepId
    }
  } catch (error) {
    // a run that fails or is cancelled mid-call ends its step with the calls made so far
    if (toolStepId) {
      const patch = { step_details: drafts.stepDetails(), tool_data: drafts.toolData() }
      await repos.runSteps.update(run.project_id, toolStepId, patch).catch(() => {})
    }
    throw error
  }

  usage ??= { prompt_tokens: request.promptTokens, completion_tokens: 0, total_tokens: request.promptTokens }
  const turnUsage = {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  }
  const runUsage = JSON.stringify(addUsage(soFar, turnUsage))
  const now = nowSeconds()
  const cutOff = finish === 'length' && budget !== null
  const calls = drafts.calls

  // the turn's writes go in the transaction that moves the run, with the usage rows
  const writes: ((r: Repos) => Promise<unknown>)[] = []
  const end: TurnEnd = {
    write: async (r) => {
      for (const w of writes) await w(r)
    },
    usage: input.usage,
  }
  if (message && messageStepId) {
    const content = answerContent(text, answer)
    const done: MessageRecord = cutOff
      ? { ...message, content, status: 'incomplete', incompleteAt: now, incompleteDetails: { reason: 'max_tokens' } }
      : { ...message, content, status: 'completed', completedAt: now }
    // the step's usage is the turn's when the message is all it made
    const stepUsage = calls.length ? null : JSON.stringify(turnUsage)
    const stepId = messageStepId
    writes.push(async (r) => {
      await r.messages.update(run.project_id, run.thread_id, done.id, messagePatch(done))
      await r.runSteps.update(run.project_id, stepId, { status: 'completed', completed_at: now, usage: stepUsage })
    })
    end.events = async () => {
      const step = await repos.runSteps.get(run.project_id, run.id, stepId)
      const event = { event: `thread.message.${done.status}`, data: messageObject(done, version) }
      return [event, { event: 'thread.run.step.completed', data: runStepObject(step!) }]
    }
  }
  if (cutOff) {
    const stepId = toolStepId
    const details = drafts.stepDetails()
    if (stepId) writes.push((r) => r.runSteps.update(run.project_id, stepId, { step_details: details }))
    const incomplete = { incomplete_details: JSON.stringify({ reason: 'max_completion_tokens' }), usage: runUsage }
    yield* finishRun(deps.storage, run, 'incomplete', incomplete, version, end)
    return 'done'
  }
  if (!calls.length) {
    yield* finishRun(deps.storage, run, 'completed', { usage: runUsage }, version, end)
    return 'done'
  }

  return yield* endToolTurn(deps.storage, { run, version, stepId: toolStepId!, drafts, end, turnUsage, runUsage })
}

/** The answer's message and its step, and their events (images shown at once). */
async function* openMessage(storage: Storage, run: RunRow, version: ApiVersion, answer: AnswerParts) {
  const created = await startMessage(storage, run)
  yield { event: 'thread.run.step.created', data: runStepObject(created.step) }
  yield { event: 'thread.run.step.in_progress', data: runStepObject(created.step) }
  yield { event: 'thread.message.created', data: messageObject(created.message, version) }
  yield { event: 'thread.message.in_progress', data: messageObject(created.message, version) }
  if (answer.images.length) {
    const content = answer.images.map((file_id, index) => ({ index, type: 'image_file', image_file: { file_id } }))
    yield messageDelta(created.message.id, content)
  }
  return { message: created.message, stepId: created.step.id }
}

/** The tool_calls step exists (in_progress, no calls yet) before its first delta goes out. */
async function* openToolStep(storage: Storage, run: RunRow) {
  const step = { ...newStep(run, nowSeconds()), type: 'tool_calls' as const, step_details: JSON.stringify({ type: 'tool_calls', tool_calls: [] }) }
  await storage.transaction(async (tx) => {
    await createRepos(tx.db).runSteps.insert(step)
  })
  yield { event: 'thread.run.step.created', data: runStepObject(step) }
  yield { event: 'thread.run.step.in_progress', data: runStepObject(step) }
  return step.id
}

function textDelta(messageId: string, index: number, value: string, annotations: unknown[]): RunEvent {
  return messageDelta(messageId, [{ index, type: 'text', text: { value, annotations } }])
}

function messageDelta(id: string, content: unknown[]): RunEvent {
  return { event: 'thread.message.delta', data: { id, object: 'thread.message.delta', delta: { content } } }
}

function stepDelta(id: string, toolCalls: unknown[]): RunEvent {
  return {
    event: 'thread.run.step.delta',
    data: { id, object: 'thread.run.step.delta', delta: { step_details: { type: 'tool_calls', tool_calls: toolCalls } } },
  }
}
