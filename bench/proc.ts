// What /proc tells of a benchmarked server process (Linux only).
import fs from 'node:fs'

/** A memory field of /proc/<pid>/status, in kB: VmRSS is resident now, VmHWM the peak so far. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
}

/** User + system CPU of a process, all its threads, in microseconds. */
export function cpuMicros(pid: number | 'self'): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100)
}
