/**
 * The dashboard's request log: the last N API requests this node answered, in memory (a ring), as
 * http/observe.ts reports them. Per node and never persisted: a restart empties it, and each node
 * of a cluster shows its own. What the access log line holds, and, for a project that opted in,
 * the prompt and answer text, each cut at BODY_LIMIT_BYTES: they leave with their entry.
 */
export type RequestLogEntry = {
  /** this node's number for the entry (the dashboard's detail page), set by add() */
  seq?: number
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
  /** the request's prompt text and its answer's, when the project keeps them (RequestRecord) */
  prompt?: BodyText
  answer?: BodyText
}

/** Prompt or answer text kept for the request log, cut at BODY_LIMIT_BYTES of UTF-8. */
export type BodyText = { text: string; truncated: boolean }

export const BODY_LIMIT_BYTES = 8192

/**
 * Text gathered piece by piece (a streamed answer) up to BODY_LIMIT_BYTES; whatever comes after
 * is dropped, so a long answer costs no more memory than a short one.
 */
export class BodyTap {
  private parts: string[] = []
  private bytes = 0
  private full = false

  add(piece: string) {
    if (this.full || !piece) return
    const size = Buffer.byteLength(piece)
    if (this.bytes + size <= BODY_LIMIT_BYTES) {
      this.parts.push(piece)
      this.bytes += size
      return
    }
    this.full = true
    const buffer = Buffer.from(piece)
    let room = BODY_LIMIT_BYTES - this.bytes
    // cut on a character boundary: never inside a UTF-8 sequence (continuation bytes are 10xxxxxx)
    while (room > 0 && (buffer[room]! & 0xc0) === 0x80) room--
    this.parts.push(buffer.subarray(0, room).toString('utf8'))
  }

  get isFull(): boolean {
    return this.full
  }

  body(): BodyText {
    return { text: this.parts.join(''), truncated: this.full }
  }
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
  private seq = 0

  constructor(readonly size: number) {
    this.entries = new Array(Math.max(0, size))
  }

  add(entry: RequestLogEntry) {
    if (this.size <= 0) return
    entry.seq = ++this.seq
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

  /** Drops the prompt and answer text kept for a project (it stopped keeping them). */
  forgetBodies(projectId: string) {
    for (const entry of this.entries) {
      if (entry?.projectId !== projectId) continue
      delete entry.prompt
      delete entry.answer
    }
  }

  /** The entry numbered `seq`, while the ring still holds it. */
  get(seq: number): RequestLogEntry | undefined {
    if (!Number.isInteger(seq) || seq <= this.seq - this.count || seq > this.seq) return undefined
    return this.entries[(this.next - 1 - (this.seq - seq) + this.size * 2) % this.size]
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
