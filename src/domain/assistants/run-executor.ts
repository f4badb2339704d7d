import { ApiError } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import {
  ChatCompletionCreateParams,
  type ChatCompletionCreateParams as ChatParams,
} from '../../schemas/chat.js'
import type { FunctionToolCall, RunToolChoice, Usage } from '../../schemas/runs.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos, type Repos } from '../../storage/repositories/index.js'
import type { RunPatch, RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { RunStatus } from '../../storage/tables-runs.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { ChatService } from '../inference/chat.js'
import { usageQueries, usageRow, type UsageEntry } from '../inference/usage.js'
import { messageRecord, messageRow, type ApiVersion, type MessageRecord } from './records.js'
import { addUsage, runObject, runStepObject, TERMINAL } from './run-objects.js'
import { buildPrompt } from './run-prompt.js'
import { messageObject } from './versions.js'

export const RUN_JOB = 'thread.run.execute'
/** A run waiting for tool outputs expires after this long (OpenAI: 10 minutes). */
export const REQUIRES_ACTION_SECONDS = 600
/** The executor writes heartbeat_at this often; a streamed run silent for WATCHDOG_STALE_MS is resumed. */
const HEARTBEAT_MS = 1_000
export const WATCHDOG_STALE_MS = 10_000
export const WATCHDOG_EVERY_MS = 15_000

export type RunRef = { projectId: string; threadId: string; runId: string }
/** `expire`: only checks a requires_action run's deadline; `watchdog`: resumes a silent streamed run. */
export type RunJobPayload = RunRef & { mode?: 'execute' | 'expire' | 'watchdog' }
export type RunEvent = { event: string; data: unknown }

export type ExecuteOptions = {
  signal: AbortSignal
  version: ApiVersion
  /** the job's last attempt: a run that crashed every earlier attempt fails instead of retrying */
  lastAttempt?: boolean
}

type ToolCallDraft = { id: string; name: string; arguments: string }

/**
 * The end of a turn, written in the transaction that moves the run on: the turn's message and
 * steps, and its usage rows. A turn is saved and billed together, or (a crash) neither, and the
 * turn runs again.
 */
type TurnEnd = {
  /** the turn's own writes (its message and steps), before the open steps are closed */
  write?(r: Repos): Promise<void>
  /** the events of those writes, once committed */
  events?(): Promise<RunEvent[]>
  /** the turn's usage rows; emptied once written, so that they are written once */
  usage: UsageRecordInsert[]
}

/**
 * Executes runs (docs/assistants.md, "Runs"): one model turn per call, from queued (or an
 * interrupted in_progress) to completed, requires_action, incomplete, failed or cancelled.
 * The job runner drains it; a streamed request forwards its events. Idempotent: a run that has
 * ended or waits for tool outputs is left alone, and an in_progress run found without an executor
 * (a crash) has its partial step and message removed and the turn run again.
 */
export class RunExecutor {
  /** model calls in flight on this node, so a cancel here aborts at once */
  private readonly local = new Map<string, AbortController>()

  constructor(
    private readonly deps: { storage: Storage; chat: Pick<ChatService, 'chunks'> },
  ) {}

  abortLocal(runId: string) {
    this.local.get(runId)?.abort(new Error('cancelled'))
  }

  /**
   * The thread.run.execute job: executes the run; `expire` ends a run still waiting for tool
   * outputs past its deadline; `watchdog` resumes a streamed run whose request went silent (its
   * process died), or looks again later.
   */
  async runJob(
    payload: RunJobPayload,
    options: Omit<ExecuteOptions, 'version'>,
  ): Promise<'again' | void> {
    const run = await this.load(payload)
    if (!run) return
    if (payload.mode === 'expire') {
      if (run.status !== 'requires_action' || (run.expires_at ?? 0) > nowSeconds()) return
      for await (const event of this.finish(run, 'expired', {}, 'v2')) void event
      return
    }
    if (payload.mode === 'watchdog') {
      if (TERMINAL.includes(run.status) || run.status === 'requires_action') return
      const silent = Date.now() - (run.heartbeat_at ?? 0) > WATCHDOG_STALE_MS
      if (!silent) return 'again'
    }
    for await (const event of this.execute(payload, { ...options, version: 'v2' })) void event
  }

  private repos() {
    return createRepos(this.deps.storage.db)
  }

  private async load(ref: RunRef) {
    return this.repos().runs.get(ref.projectId, ref.threadId, ref.runId)
  }

  private runEvent(row: RunRow, version: ApiVersion): RunEvent {
    return { event: `thread.run.${row.status}`, data: runObject(row, version) }
  }

  async *execute(ref: RunRef, options: ExecuteOptions): AsyncGenerator<RunEvent> {
    let run = await this.load(ref)
    if (!run || TERMINAL.includes(run.status) || run.status === 'requires_action') return
    if (run.status === 'cancelling') {
      yield* this.finish(run, 'cancelled', {}, options.version)
      return
    }
    const controller = new AbortController()
    const abort = () => controller.abort(options.signal.reason)
    options.signal.addEventListener('abort', abort, { once: true })
    this.local.set(run.id, controller)
    let cancelled = false
    // a cancel from another node: seen on the row; the heartbeat tells the watchdog we are alive
    const timer = setInterval(() => {
      void (async () => {
        const now = await this.load(ref).catch(() => undefined)
        if (now?.status === 'cancelling') {
          cancelled = true
          controller.abort(new Error('cancelled'))
        }
        await this.repos()
          .runs.update(ref.projectId, ref.runId, { heartbeat_at: Date.now() }, ['in_progress'])
          .catch(() => {})
      })()
    }, HEARTBEAT_MS)
    timer.unref()
    // the usage of this call's model turn, written with the run's move (see TurnEnd): at the
    // turn's end, or when the run fails or is cancelled midway; not when the job stops (a lost
    // lease, a shutdown): the turn runs again, and is billed then
    const usage: UsageRecordInsert[] = []
    try {
      if (run.status === 'queued') {
        const started = { status: 'in_progress' as const, started_at: run.started_at ?? nowSeconds() }
        if (!(await this.transition(run, started, ['queued']))) {
          yield* this.afterLostTransition(ref, options.version)
          return
        }
        run = { ...run, ...started, heartbeat_at: Date.now() }
        yield this.runEvent(run, options.version)
      } else {
        await this.discardPartial(run)
        if (options.lastAttempt) {
          const error = { code: 'server_error', message: 'The run was interrupted too often.' }
          yield* this.finish(run, 'failed', { last_error: JSON.stringify(error) }, options.version)
          return
        }
      }
      const unsupported = (JSON.parse(run.tools) as { type: string }[]).find(
        (t) => t.type !== 'function',
      )
      if (unsupported) {
        const name = options.version === 'v1' && unsupported.type === 'file_search' ? 'retrieval' : unsupported.type
        const error = { code: 'invalid_prompt', message: `Plinth does not execute the ${name} tool yet` }
        yield* this.finish(run, 'failed', { last_error: JSON.stringify(error) }, options.version)
        return
      }
      yield* this.turn(run, controller.signal, options.version, usage)
    } catch (error) {
      if (options.signal.aborted) throw error // lease lost or shutdown: the next runner resumes
      const current = await this.load(ref)
      if (!current || TERMINAL.includes(current.status)) return
      if (cancelled || current.status === 'cancelling') {
        yield* this.finish(current, 'cancelled', {}, options.version, { usage })
        return
      }
      const failed = { last_error: JSON.stringify(lastError(error)) }
      yield* this.finish(current, 'failed', failed, options.version, { usage })
    } finally {
      clearInterval(timer)
      options.signal.removeEventListener('abort', abort)
      this.local.delete(ref.runId)
    }
  }

  /** One model call: a message, tool calls (requires_action), or the end of the run. */
  private async *turn(
    run: RunRow,
    signal: AbortSignal,
    version: ApiVersion,
    usageRows: UsageRecordInsert[],
  ): AsyncGenerator<RunEvent> {
    const repos = this.repos()
    const all = (await repos.messages.all(run.project_id, run.thread_id)).map(messageRecord)
    const thread = all.filter((m) => m.runId !== run.id)
    const ownMessages = new Map(all.filter((m) => m.runId === run.id).map((m) => [m.id, m]))
    const steps = await repos.runSteps.all(run.project_id, run.id)
    const tools = (JSON.parse(run.tools) as { type: string; function?: unknown }[])
      .filter((t) => t.type === 'function')
      .map((t) => ({ type: 'function', function: t.function }))
    const prompt = buildPrompt({
      instructions: run.instructions,
      thread,
      steps,
      ownMessages,
      truncation: JSON.parse(run.truncation_strategy),
      maxPromptTokens: run.max_prompt_tokens,
      tools,
    })
    const soFar: Usage | null = run.usage ? JSON.parse(run.usage) : null
    if (!prompt.fits || (run.max_prompt_tokens !== null && (soFar?.prompt_tokens ?? 0) + prompt.tokens > run.max_prompt_tokens)) {
      const details = JSON.stringify({ reason: 'max_prompt_tokens' })
      yield* this.finish(run, 'incomplete', { incomplete_details: details }, version)
      return
    }
    const budget =
      run.max_completion_tokens === null
        ? null
        : run.max_completion_tokens - (soFar?.completion_tokens ?? 0)
    const params = ChatCompletionCreateParams.parse({
      model: run.model,
      messages: prompt.messages,
      ...(tools.length
        ? { tools, tool_choice: toolChoice(run.tool_choice), parallel_tool_calls: run.parallel_tool_calls === 1 }
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

    const principal = await this.principal(run)
    let message: MessageRecord | null = null
    let messageStepId: string | null = null
    let text = ''
    const calls: ToolCallDraft[] = []
    /** the model's tool call index → the call's index in the step (order of first appearance) */
    const callIndex = new Map<number, number>()
    let toolStepId: string | null = null
    let finish: string | null = null
    let usage: Usage | null = null
    // the model call's usage comes back here instead of the recorder: it is written with the turn
    const usageSink = (entry: UsageEntry) => {
      const row = usageRow(principal, entry)
      if (row) usageRows.push(row)
    }
    try {
      const chunks = this.deps.chat.chunks(principal, params, { signal, usageSink })
      for await (const chunk of chunks as AsyncIterable<ChatChunk>) {
        if (chunk.usage) usage = chunk.usage
        const choice = chunk.choices?.[0]
        if (!choice) continue
        const content = choice.delta?.content
        if (content) {
          if (!message) {
            const created = await this.startMessage(run)
            message = created.message
            messageStepId = created.step.id
            yield { event: 'thread.run.step.created', data: runStepObject(created.step) }
            yield { event: 'thread.run.step.in_progress', data: runStepObject(created.step) }
            yield { event: 'thread.message.created', data: messageObject(message, version) }
            yield { event: 'thread.message.in_progress', data: messageObject(message, version) }
          }
          text += content
          yield {
            event: 'thread.message.delta',
            data: {
              id: message.id,
              object: 'thread.message.delta',
              delta: { content: [{ index: 0, type: 'text', text: { value: content, annotations: [] } }] },
            },
          }
        }
        const deltas: StepToolCallDelta[] = []
        for (const call of choice.delta?.tool_calls ?? []) {
          let index = callIndex.get(call.index)
          const first = index === undefined
          if (index === undefined) {
            index = calls.length
            callIndex.set(call.index, index)
            calls.push({ id: '', name: '', arguments: '' })
          }
          const draft = calls[index]!
          if (call.id) draft.id = call.id
          if (call.function?.name) draft.name += call.function.name
          if (call.function?.arguments) draft.arguments += call.function.arguments
          deltas.push({
            index,
            ...(call.id ? { id: call.id } : {}),
            type: 'function',
            function: {
              ...(call.function?.name ? { name: call.function.name } : {}),
              arguments: call.function?.arguments ?? '',
              ...(first ? { output: null } : {}),
            },
          })
        }
        if (deltas.length) {
          if (!toolStepId) {
            // the step exists (in_progress, no calls yet) before its first delta goes out
            const step = {
              ...this.newStep(run, nowSeconds()),
              type: 'tool_calls' as const,
              step_details: toolStepDetails([]),
            }
            await this.deps.storage.transaction(async (tx) => {
              await createRepos(tx.db).runSteps.insert(step)
            })
            toolStepId = step.id
            yield { event: 'thread.run.step.created', data: runStepObject(step) }
            yield { event: 'thread.run.step.in_progress', data: runStepObject(step) }
          }
          yield {
            event: 'thread.run.step.delta',
            data: {
              id: toolStepId,
              object: 'thread.run.step.delta',
              delta: { step_details: { type: 'tool_calls', tool_calls: deltas } },
            },
          }
        }
        if (choice.finish_reason) finish = choice.finish_reason
      }
    } catch (error) {
      // a run that fails or is cancelled mid-call ends its step with the calls made so far
      if (toolStepId) {
        await repos.runSteps
          .update(run.project_id, toolStepId, { step_details: toolStepDetails(calls) })
          .catch(() => {})
      }
      throw error
    }
    signal.throwIfAborted()
    usage ??= { prompt_tokens: prompt.tokens, completion_tokens: 0, total_tokens: prompt.tokens }
    const turnUsage = {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
    }
    const runUsage = JSON.stringify(addUsage(soFar, turnUsage))
    const now = nowSeconds()
    const cutOff = finish === 'length' && budget !== null
    const toolCalls = calls.filter(Boolean)

    // the turn's writes go in the transaction that moves the run, with the usage rows
    const writes: ((r: Repos) => Promise<unknown>)[] = []
    const end: TurnEnd = {
      write: async (r) => {
        for (const w of writes) await w(r)
      },
      usage: usageRows,
    }
    if (message && messageStepId) {
      const content = [{ type: 'text' as const, text: { value: text, annotations: [] } }]
      const done: MessageRecord = cutOff
        ? { ...message, content, status: 'incomplete', incompleteAt: now, incompleteDetails: { reason: 'max_tokens' } }
        : { ...message, content, status: 'completed', completedAt: now }
      // the step's usage is the turn's when the message is all it made
      const stepUsage = toolCalls.length ? null : JSON.stringify(turnUsage)
      const stepId = messageStepId
      writes.push(async (r) => {
        await r.messages.update(run.project_id, run.thread_id, done.id, messagePatch(done))
        await r.runSteps.update(run.project_id, stepId, {
          status: 'completed',
          completed_at: now,
          usage: stepUsage,
        })
      })
      end.events = async () => {
        const step = await repos.runSteps.get(run.project_id, run.id, stepId)
        const message = { event: `thread.message.${done.status}`, data: messageObject(done, version) }
        return [message, { event: 'thread.run.step.completed', data: runStepObject(step!) }]
      }
    }
    if (cutOff) {
      const stepId = toolStepId
      const details = toolStepDetails(calls)
      if (stepId) writes.push((r) => r.runSteps.update(run.project_id, stepId, { step_details: details }))
      const incomplete = { incomplete_details: JSON.stringify({ reason: 'max_completion_tokens' }), usage: runUsage }
      yield* this.finish(run, 'incomplete', incomplete, version, end)
      return
    }
    if (toolCalls.length) {
      const wire: FunctionToolCall[] = toolCalls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      }))
      const stepId = toolStepId!
      const expiresAt = now + REQUIRES_ACTION_SECONDS
      const patch: RunPatch = {
        status: 'requires_action',
        required_action: JSON.stringify({
          type: 'submit_tool_outputs',
          submit_tool_outputs: { tool_calls: wire },
        }),
        expires_at: expiresAt,
        usage: runUsage,
      }
      const moved = await this.deps.storage.transaction(async (tx) => {
        const r = createRepos(tx.db)
        // a cancel that came first keeps the turn's message and steps (the cancel closes them)
        // and bills the turn when it ends the run
        await end.write!(r)
        await r.runSteps.update(run.project_id, stepId, {
          step_details: toolStepDetails(toolCalls),
          usage: JSON.stringify(turnUsage),
        })
        if (!(await r.runs.update(run.project_id, run.id, patch, ['in_progress']))) return false
        const payload: RunJobPayload = { projectId: run.project_id, threadId: run.thread_id, runId: run.id, mode: 'expire' }
        await r.jobs.enqueue(RUN_JOB, payload, { id: `${stepId}:expire`, runAt: expiresAt * 1000 + 500 })
        await tx.runBatch(usageQueries(tx, end.usage))
        return true
      })
      if (!moved) throw new Error('cancelled')
      end.usage.length = 0
      for (const event of (await end.events?.()) ?? []) yield event
      yield this.runEvent({ ...run, ...patch } as RunRow, version)
      return
    }
    yield* this.finish(run, 'completed', { usage: runUsage }, version, end)
  }

  /** The message_creation step and its empty in_progress message. */
  private async startMessage(run: RunRow) {
    const now = nowSeconds()
    const message: MessageRecord = {
      id: newId('msg_'),
      projectId: run.project_id,
      threadId: run.thread_id,
      createdAt: now,
      role: 'assistant',
      content: [],
      attachments: [],
      metadata: {},
      status: 'in_progress',
      incompleteDetails: null,
      completedAt: null,
      incompleteAt: null,
      assistantId: run.assistant_id,
      runId: run.id,
    }
    const step = {
      ...this.newStep(run, now),
      type: 'message_creation' as const,
      step_details: JSON.stringify({
        type: 'message_creation',
        message_creation: { message_id: message.id },
      }),
    }
    await this.deps.storage.transaction(async (tx) => {
      const r = createRepos(tx.db)
      await r.messages.insert(messageRow(message))
      await r.runSteps.insert(step)
    })
    return { message, step }
  }

  private newStep(run: RunRow, now: number) {
    return {
      id: newId('step_'),
      project_id: run.project_id,
      thread_id: run.thread_id,
      run_id: run.id,
      assistant_id: run.assistant_id,
      created_at: now,
      status: 'in_progress' as const,
      last_error: null,
      usage: null,
      metadata: '{}',
      cancelled_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
    }
  }

  /** A crash left the turn half done: its in_progress step and message go, the turn runs again. */
  private async discardPartial(run: RunRow) {
    await this.deps.storage.transaction(async (tx) => {
      const r = createRepos(tx.db)
      for (const step of await r.runSteps.all(run.project_id, run.id)) {
        if (step.status !== 'in_progress') continue
        const details = JSON.parse(step.step_details)
        if (details.type === 'message_creation') {
          await r.messages.delete(run.project_id, run.thread_id, details.message_creation.message_id)
        }
        await r.runSteps.delete(run.project_id, step.id)
      }
    })
  }

  private transition(run: RunRow, patch: RunPatch, from: RunStatus[]) {
    return this.repos().runs.update(run.project_id, run.id, patch, from)
  }

  /** Someone else moved the run (a cancel): finish what they asked for. */
  private async *afterLostTransition(ref: RunRef, version: ApiVersion): AsyncGenerator<RunEvent> {
    const run = await this.load(ref)
    if (run?.status === 'cancelling') yield* this.finish(run, 'cancelled', {}, version)
    else if (run) yield this.runEvent(run, version)
  }

  /**
   * Ends the run: its open steps and message end with it, and the thread is free again. Only a
   * run that has not ended already is changed (the executor and a cancel may race). `end`, from
   * the executor, is the turn's writes and usage, written in the same transaction.
   */
  async *finish(
    run: RunRow,
    status: 'completed' | 'failed' | 'cancelled' | 'incomplete' | 'expired',
    patch: RunPatch,
    version: ApiVersion,
    end?: TurnEnd,
  ): AsyncGenerator<RunEvent> {
    const now = nowSeconds()
    const at: RunPatch =
      status === 'completed'
        ? { completed_at: now }
        : status === 'failed'
          ? { failed_at: now }
          : status === 'cancelled'
            ? { cancelled_at: now }
            : status === 'incomplete'
              ? { completed_at: now }
              : {}
    const full: RunPatch = { status, required_action: null, ...at, ...patch }
    const stepStatus = status === 'completed' || status === 'incomplete' ? 'cancelled' : status
    const reason = status === 'expired' ? 'run_expired' : status === 'failed' ? 'run_failed' : 'run_cancelled'
    const changed: { steps: string[]; messages: MessageRecord[] } = { steps: [], messages: [] }
    const ok = await this.deps.storage.transaction(async (tx) => {
      const r = createRepos(tx.db)
      const open = (['queued', 'in_progress', 'requires_action', 'cancelling'] as RunStatus[])
      if (!(await r.runs.update(run.project_id, run.id, full, open))) return false
      await end?.write?.(r)
      for (const step of await r.runSteps.all(run.project_id, run.id)) {
        if (step.status !== 'in_progress') continue
        await r.runSteps.update(run.project_id, step.id, {
          status: stepStatus,
          [`${stepStatus}_at`]: now,
          ...(status === 'failed' ? { last_error: full.last_error } : {}),
        })
        changed.steps.push(step.id)
      }
      for (const row of await r.messages.all(run.project_id, run.thread_id)) {
        if (row.run_id !== run.id || row.status !== 'in_progress') continue
        const m: MessageRecord = {
          ...messageRecord(row),
          status: 'incomplete',
          incompleteAt: now,
          incompleteDetails: { reason },
        }
        await r.messages.update(run.project_id, run.thread_id, m.id, messagePatch(m))
        changed.messages.push(m)
      }
      await r.threads.releaseFromRun(run.project_id, run.thread_id, run.id)
      if (end) await tx.runBatch(usageQueries(tx, end.usage))
      return true
    })
    const after = await this.repos().runs.get(run.project_id, run.thread_id, run.id)
    if (!ok || !after) {
      if (after) yield this.runEvent(after, version)
      return
    }
    if (end) end.usage.length = 0
    for (const event of (await end?.events?.()) ?? []) yield event
    for (const id of changed.steps) {
      const step = await this.repos().runSteps.get(run.project_id, run.id, id)
      if (step) yield { event: `thread.run.step.${step.status}`, data: runStepObject(step) }
    }
    for (const m of changed.messages) {
      yield { event: 'thread.message.incomplete', data: messageObject(m, version) }
    }
    yield this.runEvent(after, version)
  }

  private async principal(run: RunRow): Promise<ProjectPrincipal> {
    const project = await this.repos().projects.get(run.project_id)
    const principal: ProjectPrincipal = {
      orgId: run.org_id,
      projectId: run.project_id,
      keyId: run.api_key_id ?? '',
      kind: 'project',
      permissions: { mode: 'all' },
    }
    if (project?.model_mode && project.model_ids !== null) {
      principal.models = {
        projectId: run.project_id,
        mode: project.model_mode,
        modelIds: JSON.parse(project.model_ids) as string[],
      }
    }
    return principal
  }
}

/** A function call's part in a `thread.run.step.delta` (RunStepDeltaStepDetailsToolCallsFunctionObject). */
type StepToolCallDelta = {
  index: number
  id?: string
  type: 'function'
  function: { name?: string; arguments: string; output?: null }
}

/** A tool_calls step's step_details for the calls so far (no outputs yet). */
function toolStepDetails(calls: ToolCallDraft[]) {
  return JSON.stringify({
    type: 'tool_calls',
    tool_calls: calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments, output: null },
    })),
  })
}

type ChatChunk = {
  choices?: {
    delta?: {
      content?: string | null
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[]
    }
    finish_reason?: string | null
  }[]
  usage?: Usage | null
}

function messagePatch(m: MessageRecord) {
  const row = messageRow(m)
  return {
    content: row.content,
    status: row.status,
    incomplete_details: row.incomplete_details,
    completed_at: row.completed_at,
    incomplete_at: row.incomplete_at,
  }
}

/** The run's tool_choice in chat terms (only function tools run). */
function toolChoice(stored: string | null): ChatParams['tool_choice'] {
  const choice: RunToolChoice | null = stored === null ? null : JSON.parse(stored)
  if (choice === null) return 'auto'
  if (typeof choice === 'string') return choice
  if (choice.type === 'function' && choice.function) {
    return { type: 'function', function: { name: choice.function.name } }
  }
  return 'required'
}

/** A model failure as the run's last_error (the spec allows three codes). */
function lastError(error: unknown): { code: string; message: string } {
  if (error instanceof ApiError) {
    const code = error.status === 429 ? 'rate_limit_exceeded' : 'server_error'
    return { code, message: error.message }
  }
  return { code: 'server_error', message: error instanceof Error ? error.message : String(error) }
}
