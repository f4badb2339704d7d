import type { UsageRecordInsert } from '../../storage/repositories/usage.js'
import type { Repos } from '../../storage/repositories/index.js'

export const RUN_JOB = 'thread.run.execute'
/** A run waiting for tool outputs expires after this long (OpenAI: 10 minutes). */
export const REQUIRES_ACTION_SECONDS = 600
/** The executor writes heartbeat_at this often; a streamed run silent for WATCHDOG_STALE_MS is resumed. */
export const HEARTBEAT_MS = 1_000
export const WATCHDOG_STALE_MS = 10_000
export const WATCHDOG_EVERY_MS = 15_000

export type RunRef = { projectId: string; threadId: string; runId: string }
/** `expire`: only checks a requires_action run's deadline; `watchdog`: resumes a silent streamed run. */
export type RunJobPayload = RunRef & { mode?: 'execute' | 'expire' | 'watchdog' }
/** One AssistantStreamEvent: `thread.run.created`, `thread.run.step.delta`, ... */
export type RunEvent = { event: string; data: unknown }

/**
 * The end of a turn, written in the transaction that moves the run on: the turn's message and
 * steps, and its usage rows. A turn is saved and billed together, or (a crash) neither, and the
 * turn runs again.
 */
export type TurnEnd = {
  /** the turn's own writes (its message and steps), before the open steps are closed */
  write?(r: Repos): Promise<void>
  /** the events of those writes, once committed */
  events?(): Promise<RunEvent[]>
  /** the turn's usage rows; emptied once written, so that they are written once */
  usage: UsageRecordInsert[]
}
