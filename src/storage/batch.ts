// A batch of writes on SQLite in one IMMEDIATE transaction (one fsync for all of them), each in a
// savepoint of its own so that one that fails rolls back alone and reports its own error. Used by
// the group commit's batches (writes.ts) and by imports (messages.ts insertBatch).
import type { Db } from './database.js'
import type { Outcome } from './types.js'

/** `write` must run in a savepoint when called inside a transaction (a `db.transaction` function does). */
export function savepointBatch<I, O> (db: Db, write: (item: I) => O): (items: readonly I[]) => Array<Outcome<O>> {
  const batch = db.transaction((items: readonly I[]): Array<Outcome<O>> =>
    items.map((item) => {
      try {
        return { ok: true, value: write(item) }
      } catch (error) {
        // SQLITE_FULL and I/O errors may roll back the whole transaction, not only the savepoint:
        // then none of the batch stands, and it fails as a whole.
        if (!db.inTransaction) throw error
        return { ok: false, error }
      }
    }))
  return (items) => batch.immediate(items)
}
