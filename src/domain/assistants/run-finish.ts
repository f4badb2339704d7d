import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { RunPatch, RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import type { RunStatus } from '../../storage/tables-runs.js'
import { usageQueries } from '../inference/usage.js'
import type { RunEvent, TurnEnd } from './run-events.js'
import { runObject, runStepObject } from './run-objects.js'
import { messagePatch } from './run-steps.js'
import { messageRecord, type ApiVersion, type MessageRecord } from './records.js'
import { messageObject } from './versions.js'

export type EndStatus = 'completed' | 'failed' | 'cancelled' | 'incomplete' | 'expired'

const OPEN: RunStatus[] = ['queued', 'in_progress', 'requires_action', 'cancelling']

/**
 * Ends the run: its open steps and message end with it, and the thread is free again. Only a
 * run that has not ended already is changed (the executor and a cancel may race). `end`, from
 * the executor, is the turn's writes and usage, written in the same transaction.
 */
export async function* finishRun(
  storage: Storage,
  run: RunRow,
  status: EndStatus,
  patch: RunPatch,
  version: ApiVersion,
  end?: TurnEnd,
): AsyncGenerator<RunEvent> {
  const now = nowSeconds()
  const full: RunPatch = { status, required_action: null, ...endedAt(status, now), ...patch }
  const stepStatus = status === 'completed' || status === 'incomplete' ? 'cancelled' : status
  const reason = status === 'expired' ? 'run_expired' : status === 'failed' ? 'run_failed' : 'run_cancelled'
  const changed: { steps: string[]; messages: MessageRecord[] } = { steps: [], messages: [] }
  const ok = await storage.transaction(async (tx) => {
    const r = createRepos(tx.db)
    if (!(await r.runs.update(run.project_id, run.id, full, OPEN))) return false
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
    for (const row of await r.messages.ofRun(run.project_id, run.thread_id, run.id)) {
      if (row.status !== 'in_progress') continue
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
  const repos = createRepos(storage.db)
  const after = await repos.runs.get(run.project_id, run.thread_id, run.id)
  if (!ok || !after) {
    if (after) yield runEvent(after, version)
    return
  }
  if (end) end.usage.length = 0
  for (const event of (await end?.events?.()) ?? []) yield event
  for (const id of changed.steps) {
    const step = await repos.runSteps.get(run.project_id, run.id, id)
    if (step) yield { event: `thread.run.step.${step.status}`, data: runStepObject(step) }
  }
  for (const m of changed.messages) {
    yield { event: 'thread.message.incomplete', data: messageObject(m, version) }
  }
  yield runEvent(after, version)
}

export function runEvent(row: RunRow, version: ApiVersion): RunEvent {
  return { event: `thread.run.${row.status}`, data: runObject(row, version) }
}

function endedAt(status: EndStatus, now: number): RunPatch {
  if (status === 'completed' || status === 'incomplete') return { completed_at: now }
  if (status === 'failed') return { failed_at: now }
  if (status === 'cancelled') return { cancelled_at: now }
  return {}
}
