import { modelNotFound, threadNotFound, unsupportedAssistantModel } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { AssistantsListQuery, ToolResources } from '../../schemas/assistants.js'
import type { ListPage } from '../../schemas/shared.js'
import { checkChatStrictSchemas } from '../../schemas/strict-schema.js'
import type { ThreadObject } from '../../schemas/threads.js'
import type {
  FunctionToolCall,
  RunCreateV1,
  RunCreateV2,
  RunObject,
  RunStepObject,
  RunUpdate,
  SubmitToolOutputs,
  ThreadAndRunCreateV1,
  ThreadAndRunCreateV2,
} from '../../schemas/runs.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { AssistantsService } from './assistants.js'
import { attachToThreadStore, newApiMessage } from './message-input.js'
import { listOf } from './pages.js'
import { messageRow, threadRecord, type ApiVersion, type AssistantRecord, type MessageRecord } from './records.js'
import { checkIdPrefix, type References } from './references.js'
import {
  runNotAcceptingToolOutputs,
  runNotCancellable,
  runNotFound,
  runStepNotFound,
  threadAlreadyHasActiveRun,
  toolOutputsMissing,
} from './run-errors.js'
import { runObject, runStepObject, streamView, TERMINAL, type StepView } from './run-objects.js'
import {
  RUN_JOB,
  WATCHDOG_EVERY_MS,
  type RunEvent,
  type RunExecutor,
  type RunJobPayload,
} from './run-executor.js'
import type { ThreadsService } from './threads.js'
import {
  attachmentsFromFileIds,
  fileIdsOf,
  messageCreateInput,
  runToolsFromV1,
  threadCreateInput,
  threadObject,
  type Versioned,
} from './versions.js'

export type RunsDeps = {
  storage: Storage
  references: References
  assistants: AssistantsService
  threads: ThreadsService
  executor: RunExecutor
  hasModel(principal: ProjectPrincipal, model: string): boolean
  isChatModel(model: string): boolean
  /** context.ts: ctx.jobs.wake, so a new run starts at once */
  wake?: () => void
}

/** The run's settings in the stored (v2) form, whichever version asked. */
type RunParams = Omit<RunCreateV2, 'additional_messages'> & {
  additional_messages?: RunCreateV2['additional_messages']
}

export type Started = { run: RunObject; events?: AsyncIterable<RunEvent> }

/** Runs and run steps: the API side. The RunExecutor does the work. */
export class RunsService {
  constructor(private readonly deps: RunsDeps) {}

  // spec: createRun
  async create(
    principal: ProjectPrincipal,
    threadId: string,
    input: Versioned<RunCreateV1, RunCreateV2>,
    /** `include[]` asked for file search results' content (the streamed steps show it) */
    includeContent = false,
  ): Promise<Started> {
    checkIdPrefix('thread_id', threadId, 'thread')
    const params = runParams(input)
    const assistant = await this.assistant(principal, params)
    const stream = Boolean(params.stream)
    const row = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      if (!(await repos.threads.lock(principal.projectId, threadId))) throw threadNotFound(threadId)
      return this.start(tx, principal, threadId, assistant, params, stream, input.version)
    })
    return this.started(row, input.version, stream, includeContent)
  }

  // spec: createThreadAndRun
  async createThreadAndRun(
    principal: ProjectPrincipal,
    input: Versioned<ThreadAndRunCreateV1, ThreadAndRunCreateV2>,
  ): Promise<Started & { thread: ThreadObject }> {
    // create-and-run's `tool_resources` are the run's own (v1 has none), not a run parameter
    const { thread: threadParams, tool_resources: toolResources, ...rest } = input.params as ThreadAndRunCreateV2
    const params = runParams({ version: input.version, params: rest } as Versioned<
      RunCreateV1,
      RunCreateV2
    >)
    const assistant = await this.assistant(principal, params)
    const stream = Boolean(params.stream)
    const threadInput = threadCreateInput({
      version: input.version,
      params: threadParams ?? {},
    } as never)
    const { row, thread } = await this.deps.storage.transaction(async (tx) => {
      const { thread } = await this.deps.threads.insert(tx, principal.projectId, threadInput)
      const resources = toolResources ? await this.deps.references.resolve(tx, principal.projectId, toolResources) : null
      const row = await this.start(tx, principal, thread.id, assistant, params, stream, input.version, resources)
      return { row, thread }
    })
    const threadWire = threadObject({ ...thread, activeRunId: row.id }, input.version)
    const started = this.started(row, input.version, stream)
    if (!started.events) return { ...started, thread: threadWire }
    const events = started.events
    async function* withThread() {
      yield { event: 'thread.created', data: threadWire }
      yield* events
    }
    return { run: started.run, events: withThread(), thread: threadWire }
  }

  /** Writes the run (and its additional messages), takes the thread (G6), enqueues its job. */
  private async start(
    tx: Storage,
    principal: ProjectPrincipal,
    threadId: string,
    assistant: AssistantRecord,
    params: RunParams,
    stream: boolean,
    version: ApiVersion,
    /** create-and-run's `tool_resources`: each tool given replaces the assistant's for the run */
    toolResources: ToolResources | null = null,
  ): Promise<RunRow> {
    const repos = createRepos(tx.db)
    const projectId = principal.projectId
    const id = newId('run_')
    if (!(await repos.threads.claimForRun(projectId, threadId, id))) {
      const thread = await repos.threads.get(projectId, threadId)
      if (!thread) throw threadNotFound(threadId)
      throw threadAlreadyHasActiveRun(threadId, threadRecord(thread).activeRunId ?? '')
    }
    const now = nowSeconds()
    const added: MessageRecord[] = []
    for (const message of params.additional_messages ?? []) {
      const at = { projectId, threadId, now }
      const record = await newApiMessage(tx, this.deps.references, at, message)
      await repos.messages.insert(messageRow(record))
      added.push(record)
    }
    // v1 retrieval searches the assistant's files: they join the thread's store, as its
    // messages' files do (v1 has no vector stores to name; OpenAI's v1 kept such an index too)
    const tools = params.tools ?? assistant.tools
    const assistantFiles =
      version === 'v1' && tools.some((tool) => tool.type === 'file_search')
        ? [{ attachments: attachmentsFromFileIds(fileIdsOf(assistant.toolResources)) }]
        : []
    if (added.length || assistantFiles.length) {
      const thread = threadRecord((await repos.threads.get(projectId, threadId))!)
      await attachToThreadStore(tx, this.deps.references, thread, [...added, ...assistantFiles])
    }
    const instructions = [params.instructions ?? assistant.instructions ?? '', params.additional_instructions ?? '']
      .filter(Boolean)
      .join('\n\n')
    const row: RunRow = {
      id,
      project_id: projectId,
      org_id: principal.orgId,
      api_key_id: principal.keyId || null,
      thread_id: threadId,
      assistant_id: assistant.id,
      created_at: now,
      status: 'queued',
      model: params.model ?? assistant.model,
      instructions,
      tools: JSON.stringify(params.tools ?? assistant.tools),
      file_ids: JSON.stringify(fileIdsOf({ ...assistant.toolResources, ...toolResources })),
      tool_resources: toolResources ? JSON.stringify(toolResources) : null,
      metadata: JSON.stringify(params.metadata ?? {}),
      temperature: params.temperature ?? assistant.temperature,
      top_p: params.top_p ?? assistant.topP,
      response_format: JSON.stringify(params.response_format ?? assistant.responseFormat ?? 'auto'),
      tool_choice: params.tool_choice ? JSON.stringify(params.tool_choice) : null,
      parallel_tool_calls: params.parallel_tool_calls === false ? 0 : 1,
      truncation_strategy: JSON.stringify(
        params.truncation_strategy
          ? { last_messages: null, ...params.truncation_strategy }
          : { type: 'auto', last_messages: null },
      ),
      max_prompt_tokens: params.max_prompt_tokens ?? null,
      max_completion_tokens: params.max_completion_tokens ?? null,
      required_action: null,
      last_error: null,
      incomplete_details: null,
      usage: null,
      started_at: null,
      expires_at: now + 600,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      heartbeat_at: stream ? Date.now() : null,
    }
    await repos.runs.insert(row)
    await this.enqueue(tx, row, stream)
    return row
  }

  /**
   * A run without `stream` is executed by the job runner. A streamed one by the request, with a
   * watchdog job: should the request's process die, the watchdog resumes the silent run.
   */
  private async enqueue(tx: Storage, row: RunRow, stream: boolean) {
    const payload: RunJobPayload = {
      projectId: row.project_id,
      threadId: row.thread_id,
      runId: row.id,
      mode: stream ? 'watchdog' : 'execute',
    }
    await createRepos(tx.db).jobs.enqueue(RUN_JOB, payload, {
      runAt: stream ? Date.now() + WATCHDOG_EVERY_MS : undefined,
    })
  }

  private started(row: RunRow, version: ApiVersion, stream: boolean, content = false): Started {
    const run = runObject(row, version)
    if (!stream) {
      this.deps.wake?.()
      return { run }
    }
    const executor = this.deps.executor
    const ref = { projectId: row.project_id, threadId: row.thread_id, runId: row.id }
    async function* events(): AsyncGenerator<RunEvent> {
      yield { event: 'thread.run.created', data: run }
      yield { event: 'thread.run.queued', data: run }
      const view = { version, content }
      for await (const event of executor.execute(ref, { signal: new AbortController().signal, version })) {
        yield streamView(event, view)
      }
    }
    return { run, events: events() }
  }

  // spec: listRuns
  async list(
    principal: ProjectPrincipal,
    threadId: string,
    query: AssistantsListQuery,
    version: ApiVersion,
  ): Promise<ListPage<RunObject>> {
    await this.deps.threads.load(principal.projectId, threadId)
    const page = await createRepos(this.deps.storage.db).runs.list(
      principal.projectId,
      threadId,
      query,
    )
    return listOf(page, (row) => runObject(row, version))
  }

  // spec: getRun
  async get(principal: ProjectPrincipal, threadId: string, id: string, version: ApiVersion) {
    return runObject(await this.load(principal.projectId, threadId, id), version)
  }

  // spec: modifyRun (metadata only)
  async update(
    principal: ProjectPrincipal,
    threadId: string,
    id: string,
    params: RunUpdate,
    version: ApiVersion,
  ) {
    const row = await this.load(principal.projectId, threadId, id)
    if (params.metadata === undefined) return runObject(row, version)
    const metadata = JSON.stringify(params.metadata ?? {})
    await createRepos(this.deps.storage.db).runs.update(principal.projectId, id, { metadata })
    return runObject({ ...row, metadata }, version)
  }

  // spec: cancelRun. Queued and waiting runs end at once; a running one is asked to stop.
  async cancel(principal: ProjectPrincipal, threadId: string, id: string, version: ApiVersion) {
    const row = await this.load(principal.projectId, threadId, id)
    if (TERMINAL.includes(row.status)) throw runNotCancellable(row.status)
    const repos = createRepos(this.deps.storage.db)
    if (row.status === 'queued' || row.status === 'requires_action') {
      for await (const event of this.deps.executor.finish(row, 'cancelled', {}, version)) void event
    } else if (row.status === 'in_progress') {
      await repos.runs.update(principal.projectId, id, { status: 'cancelling' }, ['in_progress'])
      this.deps.executor.abortLocal(id)
    }
    return runObject((await repos.runs.get(principal.projectId, threadId, id))!, version)
  }

  // spec: submitToolOuputsToRun
  async submitToolOutputs(
    principal: ProjectPrincipal,
    threadId: string,
    id: string,
    params: SubmitToolOutputs,
    version: ApiVersion,
  ): Promise<Started> {
    const row = await this.load(principal.projectId, threadId, id)
    if (row.status !== 'requires_action' || !row.required_action) {
      throw runNotAcceptingToolOutputs(row.status)
    }
    const action = JSON.parse(row.required_action) as {
      submit_tool_outputs: { tool_calls: FunctionToolCall[] }
    }
    const expected = action.submit_tool_outputs.tool_calls.map((c) => c.id)
    const got = params.tool_outputs.map((o) => o.tool_call_id ?? '')
    if (expected.some((e) => !got.includes(e))) throw toolOutputsMissing(expected, got)
    const outputs = new Map(params.tool_outputs.map((o) => [o.tool_call_id, o.output ?? '']))
    const stream = Boolean(params.stream)
    const now = nowSeconds()
    const updated = await this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const patch = { status: 'queued' as const, required_action: null, heartbeat_at: stream ? Date.now() : null }
      if (!(await repos.runs.update(principal.projectId, id, patch, ['requires_action']))) {
        const now = await repos.runs.get(principal.projectId, threadId, id)
        throw runNotAcceptingToolOutputs(now?.status ?? row.status)
      }
      for (const step of await repos.runSteps.all(principal.projectId, id)) {
        const details = JSON.parse(step.step_details)
        if (step.type !== 'tool_calls' || step.status !== 'in_progress') continue
        for (const call of details.tool_calls) {
          // built-in calls in the same step ran already
          if (call.type === 'function') call.function.output = outputs.get(call.id) ?? ''
        }
        await repos.runSteps.update(principal.projectId, step.id, {
          status: 'completed',
          completed_at: now,
          step_details: JSON.stringify(details),
        })
      }
      const next = { ...row, ...patch }
      await this.enqueue(tx, next, stream)
      return next
    })
    return this.started(updated, version, stream)
  }

  // spec: listRunSteps
  async listSteps(
    principal: ProjectPrincipal,
    threadId: string,
    runId: string,
    query: AssistantsListQuery,
    view: StepView = {},
  ): Promise<ListPage<RunStepObject>> {
    await this.load(principal.projectId, threadId, runId)
    const page = await createRepos(this.deps.storage.db).runSteps.list(
      principal.projectId,
      runId,
      query,
    )
    return listOf(page, (row) => runStepObject(row, view))
  }

  // spec: getRunStep
  async getStep(principal: ProjectPrincipal, threadId: string, runId: string, id: string, view: StepView = {}) {
    await this.load(principal.projectId, threadId, runId)
    checkIdPrefix('step_id', id, 'step')
    const row = await createRepos(this.deps.storage.db).runSteps.get(principal.projectId, runId, id)
    if (!row) throw runStepNotFound(id)
    return runStepObject(row, view)
  }

  /** The stored run, or G5 (thread or run id), G4, or the run's 404. */
  private async load(projectId: string, threadId: string, id: string): Promise<RunRow> {
    checkIdPrefix('thread_id', threadId, 'thread')
    checkIdPrefix('run_id', id, 'run')
    await this.deps.threads.load(projectId, threadId)
    const row = await createRepos(this.deps.storage.db).runs.get(projectId, threadId, id)
    if (!row) throw runNotFound(id)
    return row
  }

  private async assistant(principal: ProjectPrincipal, params: RunParams) {
    // a run's own response_format and tools: refused before the run exists, as at OpenAI
    checkChatStrictSchemas(params)
    const assistant = await this.deps.assistants.load(principal.projectId, params.assistant_id)
    const model = params.model ?? assistant.model
    if (!this.deps.hasModel(principal, model)) throw modelNotFound(model)
    if (!this.deps.isChatModel(model)) throw unsupportedAssistantModel(model)
    return assistant
  }
}

function runParams(input: Versioned<RunCreateV1, RunCreateV2>): RunParams {
  if (input.version === 'v2') return input.params
  const { tools, additional_messages, ...rest } = input.params
  return {
    ...rest,
    tools: runToolsFromV1(tools),
    additional_messages: additional_messages?.map((params) =>
      messageCreateInput({ version: 'v1', params }),
    ),
  }
}
