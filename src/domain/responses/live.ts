import type { ResponseEvent } from './events.js'

type Entry = {
  events: ResponseEvent[]
  done: boolean
  /** stops the model call of a background response running in this process */
  controller: AbortController
  expiry?: NodeJS.Timeout
}

/** How long a finished background response's events stay for a late reader or a replay. */
const KEEP_MS = 5 * 60_000

/**
 * The events of the background responses this process runs, as they come: what a streamed
 * background request and `GET /v1/responses/{id}?stream=true` read, from any sequence number on.
 * Kept a while after the end so a reader that comes late replays the very same events.
 */
export class LiveResponses {
  private readonly entries = new Map<string, Entry>()
  private readonly waiters = new Map<string, Set<() => void>>()

  /** A run (or a retry, which starts the events over) begins. */
  open(id: string): Entry {
    const old = this.entries.get(id)
    if (old) clearTimeout(old.expiry)
    const entry: Entry = { events: [], done: false, controller: new AbortController() }
    this.entries.set(id, entry)
    this.notify(id)
    return entry
  }

  push(id: string, entry: Entry, event: ResponseEvent) {
    entry.events.push(event)
    this.notify(id)
  }

  close(id: string, entry: Entry) {
    entry.done = true
    this.notify(id)
    entry.expiry = setTimeout(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id)
    }, KEEP_MS)
    entry.expiry.unref()
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id)
  }

  /** Stops the model call of a response running here; false when it runs elsewhere or not at all. */
  cancel(id: string): boolean {
    const entry = this.entries.get(id)
    if (!entry || entry.done) return false
    entry.controller.abort()
    return true
  }

  /** Resolves on the next event of `id` (or its start here), or after `ms`. */
  wait(id: string, ms: number): Promise<void> {
    const waiters = this.waiters.get(id) ?? new Set()
    this.waiters.set(id, waiters)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        waiters.delete(wake)
        if (!waiters.size && this.waiters.get(id) === waiters) this.waiters.delete(id)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      waiters.add(wake)
    })
  }

  private notify(id: string) {
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake()
  }
}

export type LiveEntry = Entry
