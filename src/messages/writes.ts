// The one write queue for messages: sends (messages/service.ts) and changes to sent messages
// (lifecycle/service.ts) share one group commit, so the writes of one turn of the event loop are
// one transaction and one fsync (storage WritesStore). Each write keeps its own outcome. Changes
// are background work: a batch takes the waiting sends first, then at most CHANGES_PER_TURN
// changes, oldest first (a room's seqs follow that order); while changes queue up, they take at
// most CHANGES_SHARE of the time.
import { errors } from '../errors.js'
import type { ChangeResult, MessageChange } from '../storage/lifecycle-shape.js'
import { isStorageFull, isStorageLocked, type NewMessage, type Storage, type StoredMessage } from '../storage/index.js'
import type { Write, Written } from '../storage/store.js'
import { createGroupCommit } from './group-commit.js'

/**
 * Changes committed per turn of the event loop, behind every waiting send. Each change is read
 * back, answered and framed to its room in the turn it commits, so this bounds a turn's work: under
 * a storm of reactions (100 users toggling at once, bench/lifecycle.ts) the changes queue up and
 * wait a few turns, and a new message, which commits in the turn it arrives, waits for a short turn
 * instead of a long one. Four: each turn still shares one fsync among several changes, and as many
 * changes as the fan-out bench's senders keep in flight (bench/loadgen.ts `updates`) never wait.
 */
export const CHANGES_PER_TURN = 4

/**
 * The share of the event loop that changes take while they queue up (group-commit.ts
 * `backgroundShare`). 100 users toggling reactions as fast as the answers come (the lifecycle
 * bench) otherwise keep both cores of a small machine busy, the server and its clients, and a new
 * message then waits for the scheduler rather than for our queue: with no pause its delivery p99
 * was 3.2× a quiet room's; a quarter, 1.6×; 0.15, 1.4× (~230 reactions/s still get through, each
 * answered in about 0.4 s). Changes that fit in one turn (CHANGES_PER_TURN) never pause.
 */
export const CHANGES_SHARE = 0.15

export interface MessageWritesOptions {
  storage: Storage
  /** How long a write may wait for a database locked by another program. */
  lockWaitMs: number
  maxBatch?: number
  changesPerTurn?: number
}

export function createMessageWrites ({ storage, lockWaitMs, maxBatch, changesPerTurn = CHANGES_PER_TURN }: MessageWritesOptions) {
  // Whether the last commit failed for lack of disk space (GET /api/health reports it).
  let full = false
  const commit = createGroupCommit<Write, Written>(async (writes) => {
    try {
      const results = await storage.writes.batch(writes)
      full = results.some((r) => !r.ok && isStorageFull(r.error))
      return results
    } catch (error) {
      if (isStorageFull(error)) full = true
      throw error
    }
  }, {
    maxBatch,
    isLocked: isStorageLocked,
    lockWaitMs,
    lockTimeout: () => errors.databaseLocked(lockWaitMs / 1000),
    isBackground: (write) => 'change' in write,
    maxBackground: changesPerTurn,
    backgroundShare: CHANGES_SHARE
  })

  return {
    /** Resolves once the send is committed; rejects with the store's error for it (or a lock's). */
    async send (input: NewMessage): Promise<StoredMessage> {
      const written = await commit.submit({ send: input })
      if (!('sent' in written)) throw new Error('a send was answered as a change')
      return written.sent
    },
    /** Resolves once the change is committed; rejects with the store's error for it (or a lock's). */
    async change (change: MessageChange): Promise<ChangeResult> {
      const written = await commit.submit({ change })
      if (!('changed' in written)) throw new Error('a change was answered as a send')
      return written.changed
    },
    /** Commits whatever is queued, before the database closes. */
    flush: async () => commit.flush(),
    /** True from a commit that failed for lack of disk space until one succeeds. */
    get storageFull (): boolean {
      return full
    }
  }
}

export type MessageWrites = ReturnType<typeof createMessageWrites>
