// Indexing new messages a moment after they are acknowledged, not inside their commit. A send's
// ack waits for its fsync and nothing else; everything sent in the last `delayMs` is tokenized
// and written in one transaction (on SQLite by the index's own thread, storage/search-thread.ts),
// which also lets the index (FTS5 or GIN) take one larger write instead of one per group commit.
// Searching waits for what is queued on this node (`settled`), so a sender finds their own message
// at once; another node's messages appear within `delayMs`. A write that fails (a full disk, a lost
// PostgreSQL connection, a lock on the index held too long) is tried again with a growing pause, up
// to `tries` times; what that, or a crash, loses here, the next start's backfill writes.
import type { Storage } from '../storage/index.js'

export interface LiveIndexOptions {
  /** How long a message may wait to be indexed. */
  delayMs?: number
  /** A batch this large is written at once. */
  maxBatch?: number
  /** Queued messages beyond this are dropped (the next start indexes them) rather than held. */
  maxQueued?: number
  /** Writes of one message before it is left to the next start; the first pause between them. */
  tries?: number
  retryMs?: number
  log: { warn: (object: object, message: string) => void }
}

interface Queued { messageId: number, roomId: number, body: string, tries: number }

/** The longest pause between two tries of a failed write. */
const MAX_RETRY_MS = 60_000

export interface LiveIndex {
  /** Queues a message just committed. */
  add: (message: { id: number, roomId: number, body: string }) => void
  /** Resolves once everything queued before the call is written (or its write failed). */
  settled: () => Promise<void>
  /** Writes what is queued and stops taking more (before the database closes). */
  close: () => Promise<void>
}

export function createLiveIndex (storage: Storage, { delayMs = 100, maxBatch = 1000, maxQueued = 100_000, tries = 5, retryMs = 1000, log }: LiveIndexOptions): LiveIndex {
  let queue: Queued[] = []
  let timer: NodeJS.Timeout | undefined
  let writing: Promise<void> = Promise.resolve()
  let closed = false
  let dropped = false
  let retry: NodeJS.Timeout | undefined
  let pause = 0

  async function write (batch: Queued[]): Promise<void> {
    try {
      await storage.search.writeNew(batch.map((q) => ({ messageId: q.messageId, roomId: q.roomId, body: q.body })))
      pause = 0
    } catch (error) {
      // A locked database, a full disk, a lost connection: chat goes on, and these are tried again
      // a little later (the index says what it lacks, so nothing is searched wrongly meanwhile).
      const again = closed ? [] : batch.filter((q) => ++q.tries < tries)
      const left = batch.length - again.length
      if (left > 0) log.warn({ err: error }, `search index: ${left} new messages could not be indexed now; the next start indexes them`)
      if (again.length === 0) return
      pause = pause === 0 ? retryMs : Math.min(MAX_RETRY_MS, pause * 2)
      log.warn({ err: error }, `search index: ${again.length} new messages could not be indexed now; trying again in ${pause / 1000} s`)
      queue = [...again, ...queue]
      clearTimeout(timer)
      clearTimeout(retry)
      retry = setTimeout(() => { void drain() }, pause).unref()
    }
  }

  /** Chains the write of everything queued now after the writes before it. */
  function drain (): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    clearTimeout(retry)
    retry = undefined
    if (queue.length === 0) return writing
    const batches: Queued[][] = []
    for (let i = 0; i < queue.length; i += maxBatch) batches.push(queue.slice(i, i + maxBatch))
    queue = []
    writing = writing.then(async () => { for (const b of batches) await write(b) })
    return writing
  }

  return {
    add (message) {
      if (closed) return
      if (queue.length >= maxQueued) {
        if (!dropped) log.warn({}, `search index: more than ${maxQueued} new messages waiting; the rest are indexed at the next start`)
        dropped = true
        return
      }
      queue.push({ messageId: message.id, roomId: message.roomId, body: message.body, tries: 0 })
      if (queue.length >= maxBatch) void drain()
      else if (retry === undefined) timer ??= setTimeout(() => { void drain() }, delayMs).unref()
    },
    settled: drain,
    async close () {
      closed = true
      await drain()
    }
  }
}
