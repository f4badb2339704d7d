/**
 * Milliseconds as Go's time.Duration prints them, which is the form of OpenAI's
 * x-ratelimit-reset-* headers and "Please try again in ..." (errors.md section 3): `0s`, `644ms`,
 * `26.604s`, `6m0s`, `1h0m0s`. Whole milliseconds: OpenAI shows nothing finer.
 */
export function goDuration(ms: number): string {
  const total = ms > 0 ? Math.round(ms) : 0
  if (total === 0) return '0s'
  if (total < 1000) return `${total}ms`
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor((total % 3_600_000) / 60_000)
  const millis = total % 60_000
  const whole = Math.floor(millis / 1000)
  const frac = millis % 1000
  const seconds = frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`
  if (hours) return `${hours}h${minutes}m${seconds}s`
  if (minutes) return `${minutes}m${seconds}s`
  return `${seconds}s`
}
