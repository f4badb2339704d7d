// The soak benchmark's bookkeeping: latency per operation, HTTP statuses, and every failure, each
// counted where it happens so that none can go unreported.

/** A failure already counted by the Recorder, rethrown only to end its scenario. */
export class Counted extends Error {}

export type OpStats = { op: string; count: number; errors: number; p50: number; p99: number; max: number }

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

export class Recorder {
  private readonly latencies = new Map<string, number[]>()
  private readonly errorsByOp = new Map<string, number>()
  /** Every HTTP answer by status code, the SDK's polls included. */
  readonly statuses = new Map<number, number>()
  /** The first failures in full, with the minute they happened. */
  readonly firstErrors: string[] = []
  httpRequests = 0
  errors = 0
  /** Latencies of the cheap probe request since the last sample. */
  probeWindow: number[] = []
  /** When each call ran (Date.now() at its start and end), to match with the server's stalls. */
  readonly spans: { op: string; start: number; end: number }[] = []

  constructor(private readonly startedAt: () => number) {}

  /** Runs one API call, timing it under `op`; a failure is counted and ends the scenario. */
  async time<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now()
    const start = Date.now()
    let value: T
    try {
      value = await fn()
    } catch (error) {
      this.fail(op, error)
    } finally {
      this.spans.push({ op, start, end: Date.now() })
    }
    const ms = performance.now() - t0
    let list = this.latencies.get(op)
    if (!list) this.latencies.set(op, (list = []))
    list.push(ms)
    return value!
  }

  /** A check on an answer: an answer that is not what the request asked for is an error too. */
  check(ok: unknown, op: string, message: string): asserts ok {
    if (!ok) this.fail(op, new Error(`unexpected answer: ${message}`))
  }

  fail(op: string, error: unknown): never {
    if (error instanceof Counted) throw error
    this.errors++
    this.errorsByOp.set(op, (this.errorsByOp.get(op) ?? 0) + 1)
    if (this.firstErrors.length < 20) {
      const minute = ((Date.now() - this.startedAt()) / 60_000).toFixed(2)
      const text = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
      this.firstErrors.push(`minute ${minute}, ${op}: ${text.slice(0, 500)}`)
    }
    throw new Counted(String(error))
  }

  /** fetch for the SDK: counts every HTTP answer by status (the SDK's polls included). */
  countingFetch(): typeof fetch {
    return async (input, init) => {
      const response = await fetch(input, init)
      this.httpRequests++
      this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1)
      return response
    }
  }

  serverErrors(): number {
    let n = 0
    for (const [status, count] of this.statuses) if (status >= 500) n += count
    return n
  }

  operations(): number {
    let n = 0
    for (const list of this.latencies.values()) n += list.length
    return n
  }

  table(): OpStats[] {
    const ops = new Set([...this.latencies.keys(), ...this.errorsByOp.keys()])
    return [...ops].sort().map((op) => {
      const list = this.latencies.get(op) ?? []
      return {
        op,
        count: list.length,
        errors: this.errorsByOp.get(op) ?? 0,
        p50: percentile(list, 50),
        p99: percentile(list, 99),
        max: list.reduce((a, b) => Math.max(a, b), 0),
      }
    })
  }
}
