// The two storage failures a client can be told about instead of a 500: the disk is full (507),
// and another program holds the database's write lock (503, try again). The server's connection
// has busy_timeout 0, so a lock is never waited out on the event loop: writes try again from a
// timer instead (whenUnlocked here, and the group commit for messages). PostgreSQL's disk_full
// (53100) is the same 507; its lock_not_available (55P03), serialization_failure (40001) and
// deadlock_detected (40P01) roll the transaction back whole, so trying it again is the same retry.
import { setTimeout as delay } from 'node:timers/promises'

const codeOf = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '')

/** SQLite's SQLITE_FULL (the file system refused to grow a file), PostgreSQL's 53100, or ENOSPC / EDQUOT from a file write. */
export function isStorageFull (error: unknown): boolean {
  const code = codeOf(error)
  return code === 'SQLITE_FULL' || code === '53100' || code === 'ENOSPC' || code === 'EDQUOT'
}

const PG_RETRY = new Set(['55P03', '40001', '40P01'])

/** SQLITE_BUSY (another connection writes, or checkpoints) or SQLITE_LOCKED, with any extended code; PostgreSQL's lock and serialization failures. */
export function isStorageLocked (error: unknown): boolean {
  const code = codeOf(error)
  return /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code) || PG_RETRY.has(code)
}

const FIRST_RETRY_MS = 5
const MAX_RETRY_MS = 200

/** Backoff between tries while the database is locked: 5, 10, 20 … 200 ms. */
export const nextRetryMs = (previous: number): number => Math.min(MAX_RETRY_MS, previous === 0 ? FIRST_RETRY_MS : previous * 2)

/**
 * Runs a write; while another program holds the lock, tries again after a growing pause (the
 * event loop runs meanwhile), for up to `waitMs`. Then the lock error is thrown.
 */
export async function whenUnlocked<T> (write: () => T | Promise<T>, waitMs: number): Promise<T> {
  const deadline = performance.now() + waitMs
  let pause = 0
  for (;;) {
    try {
      return await write()
    } catch (error) {
      const left = deadline - performance.now()
      if (!isStorageLocked(error) || left <= 0) throw error
      pause = nextRetryMs(pause)
      await delay(Math.min(pause, left))
    }
  }
}
