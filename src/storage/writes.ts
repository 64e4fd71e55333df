// The group commit's batch on SQLite (store.ts WritesStore): sends and changes in one IMMEDIATE
// transaction, so one fsync covers them all. Each write is its own savepoint (the messages and
// lifecycle repos' transactions nest as savepoints), so a write that fails rolls back alone.
import { savepointBatch } from './batch.js'
import type { Db } from './database.js'
import type { ChangeResult, MessageChange } from './lifecycle-shape.js'
import type { Write, Written, WriteResult } from './store.js'
import type { NewMessage, StoredMessage } from './types.js'

export function createWritesRepo (db: Db, messages: { insert: (input: NewMessage) => StoredMessage }, lifecycle: { apply: (change: MessageChange) => ChangeResult }) {
  const one = (write: Write): Written => ('send' in write ? { sent: messages.insert(write.send) } : { changed: lifecycle.apply(write.change) })
  // messages.insert and lifecycle.apply are transactions: inside this one, savepoints.
  const batch = savepointBatch(db, one)
  return {
    batch: (writes: readonly Write[]): WriteResult[] => (writes.length === 0 ? [] : batch(writes))
  }
}
