// The group commit's batch on PostgreSQL (store.ts WritesStore): sends and changes in one
// transaction, in the order queued. Every room the batch writes is locked first, in id order (as
// every writer does), so two nodes' batches never deadlock; then each run of sends goes in as one
// batch insert and each change in a savepoint of its own, so a change that fails rolls back alone.
import { isStorageLocked } from '../failures.js'
import type { Write, WriteResult, WritesStore } from '../store.js'
import type { MessageChange } from '../lifecycle-shape.js'
import type { Sql, Tx } from './connect.js'
import type { PgLifecycleStore } from './lifecycle.js'
import type { PgMessagesStore } from './messages.js'

const roomOf = (write: Write): number => ('send' in write ? write.send.roomId : write.change.roomId)

export function createPgWrites (sql: Sql, messages: PgMessagesStore, lifecycle: PgLifecycleStore): WritesStore {
  async function changeIn (tx: Tx, change: MessageChange): Promise<WriteResult> {
    try {
      return { ok: true, value: { changed: await lifecycle.applyIn(tx, change) } }
    } catch (error) {
      // A lock or serialization failure: the whole batch is tried again, as one.
      if (isStorageLocked(error)) throw error
      return { ok: false, error }
    }
  }

  return {
    async batch (writes: readonly Write[]): Promise<WriteResult[]> {
      if (writes.length === 0) return []
      // Sends only (most batches): the batch insert opens its transaction with its first statements
      // (three round trips in all) instead of sql.begin's BEGIN and a room lock of its own (five).
      if (writes.every((w) => 'send' in w)) {
        const results = await messages.insertBatch(writes.flatMap((w) => ('send' in w ? [w.send] : [])))
        return results.map((r) => (r.ok ? { ok: true, value: { sent: r.value } } : r))
      }
      return await sql.begin(async (tx) => {
        const roomIds = [...new Set(writes.map(roomOf))].sort((a, b) => a - b)
        await tx`SELECT 1 FROM rooms WHERE id = ANY(${roomIds}::int[]) ORDER BY id FOR UPDATE`
        const out: WriteResult[] = []
        let i = 0
        while (i < writes.length) {
          const write = writes[i]!
          if ('change' in write) {
            out.push(await changeIn(tx, write.change))
            i++
            continue
          }
          let end = i
          while (end < writes.length && 'send' in writes[end]!) end++
          const sends = writes.slice(i, end).flatMap((w) => ('send' in w ? [w.send] : []))
          for (const r of await messages.insertIn(tx, sends)) out.push(r.ok ? { ok: true, value: { sent: r.value } } : r)
          i = end
        }
        return out
      })
    }
  }
}
