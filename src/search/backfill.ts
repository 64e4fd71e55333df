// Indexing what the index lacks: messages from before search, imports, and everything after a
// key change emptied it. Small batches (one read, one short write transaction each) with a pause
// between them, so sends and history pages keep their turn. The server runs it in the background
// at start; `npm run reindex` and `npm run rotate-keys` run it to the end.
import { setTimeout as delay } from 'node:timers/promises'
import type { Store } from '../storage/store.js'
import type { SearchKeys } from './tokens.js'

export interface IndexRun {
  batchSize: number
  /** Between batches; 0 still yields to the event loop. */
  pauseMs?: number
  /** 'all' rewrites every message's tokens; 'unindexed' only fills gaps. */
  which?: 'unindexed' | 'all'
  signal?: AbortSignal
  /** After each batch: messages written so far in this run. */
  onBatch?: (written: number) => void
}

/** Indexes messages in id order until none are left (or the signal aborts); how many were written. */
export async function indexMessages (store: Store, keys: SearchKeys, run: IndexRun): Promise<number> {
  let after = 0
  let written = 0
  while (run.signal?.aborted !== true) {
    const batch = await store.search.scan(after, run.batchSize, run.which ?? 'unindexed')
    if (batch.length === 0) break
    // A row no key opens is left out: indexed once its key is given back.
    const entries = batch.filter((s) => s.message.unreadable !== true)
      .map((s) => ({ messageId: s.message.id, stamp: s.stamp, tokens: keys.forText(s.message.roomId, s.message.body) }))
    written += await store.search.write(entries)
    after = batch.at(-1)!.message.id
    run.onBatch?.(written)
    if (batch.length < run.batchSize) break
    await delay(run.pauseMs ?? 0)
  }
  return written
}

/** Empties the index when it was made with another key (or never), naming the current one. True when it did. */
export async function resetIfKeyChanged (store: Store, keys: SearchKeys): Promise<boolean> {
  const fingerprint = keys.fingerprint()
  if (await store.search.keyFingerprint() === fingerprint) return false
  await store.search.reset(fingerprint)
  return true
}
