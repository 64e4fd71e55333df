// Small helpers shared by the bench processes: statistics, ports, sleeping, process files.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A port nobody listens on right now (loopback). */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Nearest-rank percentile of already sorted values (p in 0..100); NaN when empty. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export interface Summary { count: number, p50: number, p99: number, max: number }

/** p50 / p99 / max of a list of samples (sorted in place as a Float64Array copy). */
export function summarize (samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort()
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!
  }
}

/** Median, min and max of the runs' values of one figure. */
export interface Spread { median: number, min: number, max: number, n: number }

export function spread (values: readonly number[]): Spread | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return null
  const mid = Math.floor(finite.length / 2)
  const median = finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, n: finite.length }
}

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status); NaN if unreadable. */
export function rssBytes (pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match === null ? Number.NaN : Number(match[1]) * 1024
  } catch {
    return Number.NaN
  }
}

/** A number with a sensible number of digits for the table. */
export function fmt (value: number): string {
  if (!Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  if (abs === 0) return '0'
  return value.toFixed(3)
}

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat; NaN if unreadable. */
export function cpuMs (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}
/** USER_HZ: 100 on every Linux build that matters. */
const CLOCK_TICKS = 100

/** CPU time all cores have spent busy since boot, in ms (from the first line of /proc/stat). */
export function systemBusyMs (): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/)
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number)
    return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}
