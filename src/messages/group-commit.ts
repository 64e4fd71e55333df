// Group commit: the sends that arrive in one turn of the event loop are written in one
// transaction (one fsync), then each caller gets its own result. With synchronous=FULL a commit
// per message caps durable throughput at the disk's fsync rate; this makes it a per-batch cost.
// When another program holds the database's write lock, the batch stays queued and is tried again
// from a timer with a growing pause (new sends join it), never by waiting on the event loop; a
// send that cannot be committed within `lockWaitMs` of its arrival is refused.
// Items may be marked as background (changes to sent messages): a batch takes every waiting
// foreground item first, then at most `maxBackground` of the oldest background ones; the rest wait
// for the next turn. A storm of changes then makes no turn long, and never stands between a new
// message and its room: the turn it arrives in commits it. While background items queue up, a
// pause after each of their batches can keep them to a share of the time (`backgroundShare`), so
// that a storm of them cannot take the whole machine from the foreground.
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { nextRetryMs } from '../storage/failures.js'
import type { Outcome } from '../storage/types.js'

interface Pending<I, O> {
  item: I
  background: boolean
  since: number
  resolve: (value: O) => void
  reject: (error: unknown) => void
}

export interface GroupCommit<I, O> {
  submit: (item: I) => Promise<O>
  /** Writes whatever is queued now (at shutdown, before the database closes); what the lock keeps out is refused. */
  flush: () => Promise<void>
  readonly pending: number
}

export interface GroupCommitOptions<I = unknown> {
  maxBatch?: number
  /** Whether an error thrown by commit means "locked: try again later" (nothing was written). */
  isLocked?: (error: unknown) => boolean
  /** How long a send may wait for the lock. */
  lockWaitMs?: number
  /** The error a send gets when that wait is over. */
  lockTimeout?: () => unknown
  /** Whether an item may wait behind the others (see the top of this file); none when not given. */
  isBackground?: (item: I) => boolean
  /** Background items per batch (and so per turn of the event loop). */
  maxBackground?: number
  /**
   * The share of the event loop that background items may take while they queue up (0–1]: after a
   * batch that left some behind, the next batch of only background items waits until the last one's
   * cost (its commit and everything its callers did with the results) is that share of the time.
   * A foreground item never waits for that pause. 1: no pause.
   */
  backgroundShare?: number
}

/**
 * @param commit writes a whole batch in one transaction and returns (or resolves to) one outcome
 *   per item, in order. If it throws or rejects, the whole batch failed and every caller gets that
 *   error (unless it is a lock: then the batch waits and is tried again). One batch at a time:
 *   sends that arrive while one commits form the next.
 */
export function createGroupCommit<I, O> (
  commit: (items: I[]) => Array<Outcome<O>> | Promise<Array<Outcome<O>>>,
  {
    maxBatch = 256, isLocked = () => false, lockWaitMs = 5000, lockTimeout = () => new Error('the database stayed locked'),
    isBackground = () => false, maxBackground = maxBatch, backgroundShare = 1
  }: GroupCommitOptions<I> = {}
): GroupCommit<I, O> {
  let queue: Array<Pending<I, O>> = []
  let scheduled = false
  let retry: NodeJS.Timeout | undefined
  /** The pause before the next batch of background items only (see backgroundShare). */
  let paced: NodeJS.Timeout | undefined
  /** The event loop's use when the last batch that left background items behind started. */
  let leftBehindAt: EventLoopUtilization | null = null
  /** Until then, batches take no background items (backgroundShare). */
  let pausedUntil = 0
  let pause = 0
  /** The drain under way, if any. */
  let draining: Promise<boolean> | null = null

  /** The next batch: foreground items in order, then the oldest background ones; whether background ones were left out. */
  function nextBatch (): { batch: Array<Pending<I, O>>, leftBehind: boolean } {
    const front: Array<Pending<I, O>> = []
    const back: Array<Pending<I, O>> = []
    const backRoom = performance.now() < pausedUntil ? 0 : maxBackground
    let leftBehind = false
    for (const p of queue) {
      if (front.length + back.length >= maxBatch) break
      if (!p.background) front.push(p)
      else if (back.length < backRoom) back.push(p)
      else leftBehind = backRoom > 0
    }
    return { batch: back.length === 0 ? front : [...front, ...back], leftBehind }
  }

  function remove (batch: ReadonlyArray<Pending<I, O>>): void {
    if (batch.length === queue.length) {
      queue = []
      return
    }
    const taken = new Set(batch)
    queue = queue.filter((p) => !taken.has(p))
  }

  /**
   * Commits batch after batch, until background items are left for the next turn; false when the
   * lock stopped it (the queue is left as it was).
   */
  async function drainQueue (): Promise<boolean> {
    while (queue.length > 0) {
      const { batch, leftBehind } = nextBatch()
      if (batch.length === 0) break // background items only, paused
      const startedAt = backgroundShare < 1 ? performance.eventLoopUtilization() : null
      let outcomes: Array<Outcome<O>>
      try {
        outcomes = await commit(batch.map((p) => p.item))
      } catch (error) {
        if (isLocked(error)) return false
        remove(batch)
        for (const p of batch) p.reject(error)
        continue
      }
      remove(batch)
      pause = 0
      batch.forEach((p, i) => {
        const outcome = outcomes[i]
        if (outcome === undefined) p.reject(new Error('group commit returned too few outcomes'))
        else if (outcome.ok) p.resolve(outcome.value)
        else p.reject(outcome.error)
      })
      if (leftBehind) {
        leftBehindAt = startedAt
        break
      }
    }
    return true
  }

  /** At most one drain at a time (the first commit starts synchronously). */
  function drain (): Promise<boolean> {
    if (draining !== null) return draining
    const current = drainQueue().then((done) => {
      draining = null
      // Sent while the last batch committed, after the loop had looked: next turn. (When the lock
      // stopped the drain, whoever started it decides when to try again.)
      if (done && queue.length > 0 && !scheduled) {
        const since = leftBehindAt
        leftBehindAt = null
        if (since !== null && backgroundShare < 1) schedulePaced(since)
        else if (performance.now() < pausedUntil && queue.every((p) => p.background)) waitForPause()
        else schedule()
      }
      return done
    }, (error: unknown) => {
      draining = null
      throw error
    })
    draining = current
    return current
  }

  function schedule (): void {
    scheduled = true
    // setImmediate runs after the I/O phase, so every frame read in this turn joins the batch.
    setImmediate(() => { void run() })
  }

  /**
   * After a batch that left background items behind: measured once its callers have run (the
   * next turn), its cost sets the pause before the next batch.
   */
  function schedulePaced (startedAt: EventLoopUtilization): void {
    scheduled = true
    setImmediate(() => {
      // The event loop's busy time, not the time since: a commit that waits on the network
      // (PostgreSQL) costs the loop nothing while it waits.
      const cost = performance.eventLoopUtilization(startedAt).active
      pausedUntil = performance.now() + cost * (1 - backgroundShare) / backgroundShare
      // A foreground item that came meanwhile goes now, alone; the background ones wait.
      if (queue.some((p) => !p.background)) void run()
      else waitForPause()
    })
  }

  /** Runs again when the pause is over (or when a foreground item comes). */
  function waitForPause (): void {
    scheduled = true
    paced = setTimeout(() => {
      pausedUntil = 0
      void run()
    }, Math.max(1, pausedUntil - performance.now()))
  }

  async function run (): Promise<void> {
    scheduled = false
    retry = undefined
    paced = undefined
    if (await drain()) return
    // Locked. Sends whose wait is over are refused; the rest are tried again later.
    const now = performance.now()
    const waiting: Array<Pending<I, O>> = []
    for (const p of queue) {
      if (now - p.since >= lockWaitMs) p.reject(lockTimeout())
      else waiting.push(p)
    }
    queue = waiting
    if (queue.length === 0) {
      pause = 0
      return
    }
    pause = nextRetryMs(pause)
    scheduled = true
    // No later than the oldest send's deadline, so its refusal is not late.
    retry = setTimeout(() => { void run() }, Math.max(1, Math.min(pause, queue[0]!.since + lockWaitMs - now)))
  }

  return {
    submit (item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        const background = isBackground(item)
        queue.push({ item, background, since: performance.now(), resolve, reject })
        if (!background && paced !== undefined) { // no pause for a foreground item
          clearTimeout(paced)
          paced = undefined
          scheduled = false
        }
        if (!scheduled && draining === null) schedule()
      })
    },
    async flush (): Promise<void> {
      clearTimeout(retry)
      clearTimeout(paced)
      paced = undefined
      pausedUntil = 0 // shutting down: no more pauses
      backgroundShare = 1
      scheduled = false
      if (draining !== null) await draining
      while (queue.length > 0) {
        if (await drain()) continue
        // Shutting down: there is no later to wait for.
        clearTimeout(retry)
        for (const p of queue) p.reject(lockTimeout())
        queue = []
      }
    },
    get pending () {
      return queue.length
    }
  }
}
