import { setTimeout as sleep } from 'node:timers/promises'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { JobRow } from '../../src/storage/repositories/jobs.js'
import type { Storage } from '../../src/storage/storage.js'

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Waits until the job reaches one of `statuses` and returns its row. */
export function waitForStatus(
  storage: Storage,
  id: string,
  statuses: JobRow['status'][],
  timeoutMs?: number,
): Promise<JobRow> {
  return waitFor(
    async () => {
      const row = await createRepos(storage.db).jobs.get(id)
      return row && statuses.includes(row.status) ? row : undefined
    },
    `job ${id} to be ${statuses.join(' or ')}`,
    timeoutMs,
  )
}

/** A promise with its resolve exposed, to hold a handler until the test lets it go. */
export function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}
