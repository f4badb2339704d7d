import type { Progress } from './download.js'

const BAR = 24

/** One progress line: bar, bytes, rate and time left, e.g. `[=====>    ] 42% 50.0 MiB / 120 MiB 8.1 MiB/s ETA 9s`. */
export function formatProgress(progress: Progress, elapsedMs: number): string {
  const { received, total, resumedFrom } = progress
  const rate = elapsedMs > 0 ? ((received - resumedFrom) / elapsedMs) * 1000 : 0
  const parts: string[] = []
  if (total) {
    const fraction = Math.min(1, received / total)
    const filled = Math.floor(fraction * BAR)
    parts.push(
      `[${'='.repeat(filled)}${filled < BAR ? '>' : ''}${' '.repeat(Math.max(0, BAR - filled - 1))}]`,
      `${Math.floor(fraction * 100)}%`,
    )
    parts.push(`${bytes(received)} / ${bytes(total)}`)
  } else {
    parts.push(bytes(received))
  }
  parts.push(`${bytes(rate)}/s`)
  if (total && rate > 0) parts.push(`ETA ${duration((total - received) / rate)}`)
  return parts.join(' ')
}

/**
 * Writes progress to a terminal as one line redrawn in place (at most every 100 ms), or, when
 * the output is not a terminal (CI logs), as a plain line every few seconds.
 */
export function progressReporter(
  out: NodeJS.WritableStream & { isTTY?: boolean },
  now = () => performance.now(),
) {
  const started = now()
  let last = -Infinity
  const interval = out.isTTY ? 100 : 5000
  return {
    update(progress: Progress) {
      const t = now()
      if (t - last < interval && progress.received !== progress.total) return
      last = t
      const line = formatProgress(progress, t - started)
      out.write(out.isTTY ? `\r${line}\x1b[K` : `${line}\n`)
    },
    done() {
      if (out.isTTY) out.write('\n')
    },
  }
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit ? value.toFixed(value >= 100 ? 0 : 1) : Math.round(value)} ${units[unit]}`
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
