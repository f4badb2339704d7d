import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { RunPatch, RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { Usage } from '../../schemas/runs.js'
import { usageQueries } from '../inference/usage.js'
import type { ApiVersion } from './records.js'
import { REQUIRES_ACTION_SECONDS, RUN_JOB, type RunEvent, type RunJobPayload, type TurnEnd } from './run-events.js'
import { runEvent } from './run-finish.js'
import { runStepObject } from './run-objects.js'
import type { ToolCallDrafts } from './run-tool-calls.js'

/**
 * The end of a turn that called tools, in one transaction with its message, step and usage:
 * built-in calls only (they ran): the step completes and the run goes on (`continue`); with
 * calls of the user's functions, the step waits for their outputs and the run is requires_action.
 */
export async function* endToolTurn(
  storage: Storage,
  turn: {
    run: RunRow
    version: ApiVersion
    stepId: string
    drafts: ToolCallDrafts
    end: TurnEnd
    turnUsage: Usage
    runUsage: string
  },
): AsyncGenerator<RunEvent, 'continue' | 'done'> {
  const { run, stepId, drafts, end } = turn
  const now = nowSeconds()
  const functions = drafts.functionCalls()
  const stepPatch = {
    step_details: drafts.stepDetails(),
    tool_data: drafts.toolData(),
    usage: JSON.stringify(turn.turnUsage),
    ...(functions.length ? {} : { status: 'completed' as const, completed_at: now }),
  }
  const expiresAt = now + REQUIRES_ACTION_SECONDS
  const patch: RunPatch = functions.length
    ? {
        status: 'requires_action',
        required_action: JSON.stringify({
          type: 'submit_tool_outputs',
          submit_tool_outputs: { tool_calls: functions },
        }),
        expires_at: expiresAt,
        usage: turn.runUsage,
      }
    : { usage: turn.runUsage }
  const moved = await storage.transaction(async (tx) => {
    const r = createRepos(tx.db)
    // a cancel that came first keeps the turn's message and steps (the cancel closes them)
    // and bills the turn when it ends the run
    await end.write?.(r)
    await r.runSteps.update(run.project_id, stepId, stepPatch)
    if (!(await r.runs.update(run.project_id, run.id, patch, ['in_progress']))) return false
    if (functions.length) {
      const payload: RunJobPayload = { projectId: run.project_id, threadId: run.thread_id, runId: run.id, mode: 'expire' }
      await r.jobs.enqueue(RUN_JOB, payload, { id: `${stepId}:expire`, runAt: expiresAt * 1000 + 500 })
    }
    await tx.runBatch(usageQueries(tx, end.usage))
    return true
  })
  if (!moved) throw new Error('cancelled')
  end.usage.length = 0
  for (const event of (await end.events?.()) ?? []) yield event
  if (!functions.length) {
    const step = await createRepos(storage.db).runSteps.get(run.project_id, run.id, stepId)
    yield { event: 'thread.run.step.completed', data: runStepObject(step!) }
    return 'continue'
  }
  yield runEvent({ ...run, ...patch } as RunRow, turn.version)
  return 'done'
}
