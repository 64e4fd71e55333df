// The append-only audit log on SQLite (API.md "Moderation"): inserts and reads, nothing else.
// Entries never hold message text; they name the room, who acted, on whom, and which message.
import type { Statement } from 'better-sqlite3'
import type { Db } from './database.js'
import type { AuditEntry, AuditInput, AuditAction } from './types.js'

export interface AuditRow {
  id: number
  action: AuditAction
  actor_id: number
  actor: string
  target_id: number | null
  target: string | null
  message_id: number | null
  reason: string | null
  at: string | Date
}

export const toAuditEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  action: row.action,
  actor: { id: row.actor_id, username: row.actor },
  target: row.target_id === null ? null : { id: row.target_id, username: row.target ?? '' },
  messageId: row.message_id,
  reason: row.reason,
  at: typeof row.at === 'string' ? row.at : row.at.toISOString()
})

const statements = new WeakMap<Db, Statement<unknown[]>>()

/** One entry, in the caller's transaction (the change it records commits with it, or neither does). */
export function insertAudit (db: Db, entry: AuditInput): void {
  let insert = statements.get(db)
  if (insert === undefined) {
    insert = db.prepare<unknown[]>('INSERT INTO audit_log (room_id, action, actor_id, target_id, message_id, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    statements.set(db, insert)
  }
  insert.run(entry.roomId, entry.action, entry.actorId, entry.targetId ?? null, entry.messageId ?? null, entry.reason ?? null, new Date().toISOString())
}

export const AUDIT_SELECT = `SELECT a.id, a.action, a.actor_id, ua.username AS actor, a.target_id, ut.username AS target, a.message_id, a.reason, a.at
  FROM audit_log a JOIN users ua ON ua.id = a.actor_id LEFT JOIN users ut ON ut.id = a.target_id`

export function createAuditRepo (db: Db) {
  const newest = db.prepare<[number, number], AuditRow>(`${AUDIT_SELECT} WHERE a.room_id = ? ORDER BY a.id DESC LIMIT ?`)
  const before = db.prepare<[number, number, number], AuditRow>(`${AUDIT_SELECT} WHERE a.room_id = ? AND a.id < ? ORDER BY a.id DESC LIMIT ?`)
  const add = db.transaction((entry: AuditInput) => insertAudit(db, entry))
  return {
    /** One entry on its own (message deletes and pins add theirs here). */
    add: (entry: AuditInput): void => add.immediate(entry),
    /** Newest first; `before` an entry id for the next page. */
    list: (roomId: number, query: { before?: number, limit: number }): AuditEntry[] =>
      (query.before === undefined ? newest.all(roomId, query.limit) : before.all(roomId, query.before, query.limit)).map(toAuditEntry)
  }
}
