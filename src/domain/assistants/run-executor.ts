import { ApiError } from '../../errors.js'
import { projectModelPolicy, type ProjectPrincipal } from '../../principal.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { RunPatch, RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { RunStatus } from '../../storage/tables-runs.js'
import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { ChatService } from '../inference/chat.js'
import { ToolRegistry } from '../tools/registry.js'
import type { ApiVersion } from './records.js'
import type { PromptCache } from './prompt-cache.js'
import {
  HEARTBEAT_MS,
  WATCHDOG_STALE_MS,
  type RunEvent,
  type RunJobPayload,
  type RunRef,
  type TurnEnd,
} from './run-events.js'
import { finishRun, runEvent, type EndStatus } from './run-finish.js'
import { TERMINAL } from './run-objects.js'
import { discardPartial } from './run-steps.js'
import { runTurn } from './run-turn.js'

export {
  REQUIRES_ACTION_SECONDS,
  RUN_JOB,
  WATCHDOG_EVERY_MS,
  WATCHDOG_STALE_MS,
  type RunEvent,
  type RunJobPayload,
  type RunRef,
} from './run-events.js'

/**
 * Model turns in a row that only called built-in tools: past it the run fails (a model calling
 * the code interpreter forever would otherwise never end).
 */
export const MAX_BUILTIN_TURNS = 25

export type ExecuteOptions = {
  signal: AbortSignal
  version: ApiVersion
  /** the job's last attempt: a run that crashed every earlier attempt fails instead of retrying */
  lastAttempt?: boolean
}

export type RunExecutorDeps = {
  storage: Storage
  chat: Pick<ChatService, 'chunks'>
  /** the built-in tools runs may use (none: a run with code_interpreter fails at once) */
  tools?: ToolRegistry
  /** the model's context, when it declares one (a run's prompt is truncated to fit it) */
  contextOf?: (model: string) => number | undefined
  /** the converted messages of long threads, kept for their next prompt */
  prompts?: PromptCache
}

/**
 * Executes runs (docs/assistants.md, "Runs"): model turns, from queued (or an interrupted
 * in_progress) to completed, requires_action, incomplete, failed or cancelled. A turn that only
 * called built-in tools (they ran) is followed by the next at once. The job runner drains it; a
 * streamed request forwards its events. Idempotent: a run that has ended or waits for tool
 * outputs is left alone, and an in_progress run found without an executor (a crash) has its
 * partial step and message removed and the turn run again.
 */
export class RunExecutor {
  /** model calls in flight on this node, so a cancel here aborts at once */
  private readonly local = new Map<string, AbortController>()
  private readonly tools: ToolRegistry

  constructor(private readonly deps: RunExecutorDeps) {
    this.tools = deps.tools ?? new ToolRegistry([])
  }

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
        yield runEvent(run, options.version)
      } else {
        await discardPartial(this.deps.storage, run)
        if (options.lastAttempt) {
          const error = { code: 'server_error', message: 'The run was interrupted too often.' }
          yield* this.finish(run, 'failed', { last_error: JSON.stringify(error) }, options.version)
          return
        }
      }
      const { unsupported } = this.tools.forRun(JSON.parse(run.tools))
      if (unsupported) {
        const name = options.version === 'v1' && unsupported === 'file_search' ? 'retrieval' : unsupported
        const error = { code: 'invalid_prompt', message: `Plinth does not execute the ${name} tool yet` }
        yield* this.finish(run, 'failed', { last_error: JSON.stringify(error) }, options.version)
        return
      }
      const principal = await this.principal(run)
      const input = { signal: controller.signal, version: options.version, principal, usage }
      const deps = {
        storage: this.deps.storage,
        chat: this.deps.chat,
        tools: this.tools,
        contextOf: this.deps.contextOf,
        prompts: this.deps.prompts,
      }
      for (let turns = 1; (yield* runTurn(deps, { ...input, run })) === 'continue'; turns++) {
        run = (await this.load(ref))!
        if (turns >= MAX_BUILTIN_TURNS) {
          const message = `The model called built-in tools ${turns} times in a row without answering.`
          const error = { code: 'server_error', message }
          yield* this.finish(run, 'failed', { last_error: JSON.stringify(error) }, options.version)
          return
        }
      }
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

  private transition(run: RunRow, patch: RunPatch, from: RunStatus[]) {
    return this.repos().runs.update(run.project_id, run.id, patch, from)
  }

  /** Someone else moved the run (a cancel): finish what they asked for. */
  private async *afterLostTransition(ref: RunRef, version: ApiVersion): AsyncGenerator<RunEvent> {
    const run = await this.load(ref)
    if (run?.status === 'cancelling') yield* this.finish(run, 'cancelled', {}, version)
    else if (run) yield runEvent(run, version)
  }

  /** Ends the run (run-finish.ts); `end` is the turn's writes and usage, in the same transaction. */
  finish(
    run: RunRow,
    status: EndStatus,
    patch: RunPatch,
    version: ApiVersion,
    end?: TurnEnd,
  ): AsyncGenerator<RunEvent> {
    return finishRun(this.deps.storage, run, status, patch, version, end)
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
    principal.models = projectModelPolicy(run.project_id, project?.model_mode, project?.model_ids)
    return principal
  }
}

/** A model or tool failure as the run's last_error (the spec allows three codes). */
function lastError(error: unknown): { code: string; message: string } {
  if (error instanceof ApiError) {
    const code = error.status === 429 ? 'rate_limit_exceeded' : 'server_error'
    return { code, message: error.message }
  }
  return { code: 'server_error', message: error instanceof Error ? error.message : String(error) }
}
