// Group commit: the sends that arrive in one turn of the event loop are written in one
// transaction (one fsync), then each caller gets its own result. With synchronous=FULL a commit
// per message caps durable throughput at the disk's fsync rate; this makes it a per-batch cost.
// When another program holds the database's write lock, the batch stays queued and is tried again
// from a timer with a growing pause (new sends join it), never by waiting on the event loop; a
// send that cannot be committed within `lockWaitMs` of its arrival is refused.
// Items may be marked as background (changes to sent messages): a batch takes every waiting
// foreground item first, then at most `maxBackground` of the oldest background ones; the rest wait
// for the next turn. A storm of changes then makes no turn long, and never stands between a new
// message and its room: the turn it arrives in commits it.
import { nextRetryMs } from '../storage/failures.js'

export type Outcome<O> = { ok: true, value: O } | { ok: false, error: unknown }

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
    isBackground = () => false, maxBackground = maxBatch
  }: GroupCommitOptions<I> = {}
): GroupCommit<I, O> {
  let queue: Array<Pending<I, O>> = []
  let scheduled = false
  let retry: NodeJS.Timeout | undefined
  let pause = 0
  /** The drain under way, if any. */
  let draining: Promise<boolean> | null = null

  /** The next batch: foreground items in order, then the oldest background ones; whether background ones were left out. */
  function nextBatch (): { batch: Array<Pending<I, O>>, leftBehind: boolean } {
    const front: Array<Pending<I, O>> = []
    const back: Array<Pending<I, O>> = []
    let leftBehind = false
    for (const p of queue) {
      if (front.length + back.length >= maxBatch) break
      if (!p.background) front.push(p)
      else if (back.length < maxBackground) back.push(p)
      else leftBehind = true
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
      if (leftBehind) break
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
      if (done && queue.length > 0 && !scheduled) schedule()
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

  async function run (): Promise<void> {
    scheduled = false
    retry = undefined
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
        queue.push({ item, background: isBackground(item), since: performance.now(), resolve, reject })
        if (!scheduled && draining === null) schedule()
      })
    },
    async flush (): Promise<void> {
      clearTimeout(retry)
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
