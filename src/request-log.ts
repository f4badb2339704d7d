/**
 * The dashboard's request log: the last N API requests this node answered, in memory (a ring), as
 * http/observe.ts reports them. Per node and never persisted: a restart empties it, and each node
 * of a cluster shows its own. No bodies, only what the access log line holds.
 */
export type RequestLogEntry = {
  /** unix ms when the response ended */
  at: number
  method: string
  route: string
  path: string
  status: number
  ms: number
  requestId?: string
  projectId?: string
  keyId?: string
  model?: string
  inputTokens?: number
  outputTokens?: number
}

export type RequestLogFilter = {
  /** `2xx`, `4xx`, `5xx` (a class) or an exact code (`429`) */
  status?: string
  model?: string
  projectId?: string
}

export class RequestLog {
  private readonly entries: (RequestLogEntry | undefined)[]
  private next = 0
  private count = 0

  constructor(readonly size: number) {
    this.entries = new Array(Math.max(0, size))
  }

  add(entry: RequestLogEntry) {
    if (this.size <= 0) return
    this.entries[this.next] = entry
    this.next = (this.next + 1) % this.size
    this.count = Math.min(this.count + 1, this.size)
  }

  /** Newest first, those that pass the filter, at most `limit`. */
  recent(filter: RequestLogFilter = {}, limit = this.size): RequestLogEntry[] {
    const out: RequestLogEntry[] = []
    for (let i = 1; i <= this.count && out.length < limit; i++) {
      const entry = this.entries[(this.next - i + this.size) % this.size]!
      if (matches(entry, filter)) out.push(entry)
    }
    return out
  }
}

function matches(entry: RequestLogEntry, filter: RequestLogFilter): boolean {
  if (filter.model && entry.model !== filter.model) return false
  if (filter.projectId && entry.projectId !== filter.projectId) return false
  if (filter.status) {
    const status = String(entry.status)
    const cls = /^([1-5])xx$/i.exec(filter.status)
    if (cls ? status[0] !== cls[1] : status !== filter.status) return false
  }
  return true
}
