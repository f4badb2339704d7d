import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { RunRow } from '../../storage/repositories/runs.js'
import type { Storage } from '../../storage/storage.js'
import { messageRow, type MessageRecord } from './records.js'

// The rows a run writes as it goes: its steps and its assistant messages.

/** A new in_progress step of the run (its type and step_details are the caller's). */
export function newStep(run: RunRow, now: number) {
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
    tool_data: null,
    cancelled_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
  }
}

/** The message_creation step and its empty in_progress message. */
export async function startMessage(storage: Storage, run: RunRow) {
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
    ...newStep(run, now),
    type: 'message_creation' as const,
    step_details: JSON.stringify({
      type: 'message_creation',
      message_creation: { message_id: message.id },
    }),
  }
  await storage.transaction(async (tx) => {
    const r = createRepos(tx.db)
    await r.messages.insert(messageRow(message))
    await r.runSteps.insert(step)
  })
  return { message, step }
}

/** A crash left the turn half done: its in_progress step and message go, the turn runs again. */
export async function discardPartial(storage: Storage, run: RunRow) {
  await storage.transaction(async (tx) => {
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

/** The columns of a message the executor changes. */
export function messagePatch(m: MessageRecord) {
  const row = messageRow(m)
  return {
    content: row.content,
    status: row.status,
    incomplete_details: row.incomplete_details,
    completed_at: row.completed_at,
    incomplete_at: row.incomplete_at,
  }
}
