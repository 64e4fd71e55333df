// The group commit's batch on SQLite (store.ts WritesStore): sends and changes in one IMMEDIATE
// transaction, so one fsync covers them all. Each write is its own savepoint (the messages and
// lifecycle repos' transactions nest as savepoints), so a write that fails rolls back alone.
import type { Db } from './database.js'
import type { ChangeResult, MessageChange } from './lifecycle-shape.js'
import type { Write, Written, WriteResult } from './store.js'
import type { NewMessage, StoredMessage } from './types.js'

export function createWritesRepo (db: Db, messages: { insert: (input: NewMessage) => StoredMessage }, lifecycle: { apply: (change: MessageChange) => ChangeResult }) {
  const one = (write: Write): Written => ('send' in write ? { sent: messages.insert(write.send) } : { changed: lifecycle.apply(write.change) })
  const batch = db.transaction((writes: readonly Write[]): WriteResult[] =>
    writes.map((write) => {
      try {
        return { ok: true, value: one(write) }
      } catch (error) {
        // SQLITE_FULL and I/O errors may roll back the whole transaction, not only the savepoint:
        // then none of the batch stands, and it fails as a whole.
        if (!db.inTransaction) throw error
        return { ok: false, error }
      }
    }))
  return {
    batch: (writes: readonly Write[]): WriteResult[] => (writes.length === 0 ? [] : batch.immediate(writes))
  }
}
