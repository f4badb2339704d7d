import { KNOWN_VIOLATIONS, type KnownViolation } from './known-violations.js'

/** One problem in one response: the request that got it, and where in the payload it is. */
export type Violation = {
  operationId: string
  request: string
  status: number
  where: 'body' | 'stream'
  /** JSON pointer into the body or the SSE data payload */
  path: string
  message: string
}

/**
 * Collects what the validating fetch finds. Validation runs beside the response (a cloned or
 * teed body), so `settle()` waits for the pending checks before anyone reads the list.
 */
export class ViolationRegistry {
  readonly violations: Violation[] = []
  /** operationId → number of responses seen */
  readonly exercised = new Map<string, number>()
  private readonly pending = new Set<Promise<unknown>>()

  exercise(operationId: string) {
    this.exercised.set(operationId, (this.exercised.get(operationId) ?? 0) + 1)
  }

  track(check: Promise<unknown>) {
    const done = check.catch(() => {}).finally(() => this.pending.delete(done))
    this.pending.add(done)
  }

  /** Waits for pending checks; a stream nobody finishes reading is given up on after `timeoutMs`. */
  async settle(timeoutMs = 2_000) {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([Promise.allSettled([...this.pending]), timeout])
    clearTimeout(timer)
  }

  take(): Violation[] {
    return this.violations.splice(0)
  }
}

/** The registry every test app's fetch reports into (one per test file: files run in their own process). */
export const specRegistry = new ViolationRegistry()

export function isKnown(
  v: Violation,
  known: readonly KnownViolation[] = KNOWN_VIOLATIONS,
): boolean {
  const path = v.path.replace(/\/\d+(?=\/|$)/g, '/*')
  return known.some(
    (k) => k.operationId === v.operationId && k.path === path && (!k.where || k.where === v.where),
  )
}

export function formatViolations(violations: Violation[]): string {
  const lines = violations.map(
    (v) =>
      `  ${v.operationId} (${v.request} → ${v.status}, ${v.where}) ${v.path || '(root)'}: ${v.message}`,
  )
  return (
    `${violations.length} response(s) violated the OpenAI spec:\n${lines.join('\n')}\n` +
    '(test/helpers/spec.ts validates every response; see test/helpers/known-violations.ts)'
  )
}

/** Throws if responses since the last call broke the spec, apart from KNOWN_VIOLATIONS. */
export async function assertNoSpecViolations(registry: ViolationRegistry = specRegistry) {
  await registry.settle()
  const unknown = registry.take().filter((v) => !isKnown(v))
  if (unknown.length) throw new Error(formatViolations(unknown))
}
