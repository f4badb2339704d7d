/**
 * Failed dashboard sign-ins per client address, in a sliding minute. Every failure is written to
 * the audit log, so without a bound one client could guess keys as fast as it likes and flood
 * the log. Past the bound, sign-in answers 429 without looking the key up or auditing.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>()

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds until this address may try again, or 0 if it may try now. */
  retryAfter(address: string, now = Date.now()): number {
    const recent = this.recent(address, now)
    if (recent.length < this.maxFailures) return 0
    return Math.max(1, Math.ceil((recent[0] + this.windowMs - now) / 1000))
  }

  failed(address: string, now = Date.now()) {
    const recent = this.recent(address, now)
    recent.push(now)
    this.failures.set(address, recent)
    // keep the map bounded when many addresses fail once and never come back
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!)
  }

  succeeded(address: string) {
    this.failures.delete(address)
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((at) => at > now - this.windowMs)
  }
}
