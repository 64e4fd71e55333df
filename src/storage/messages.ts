import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import type { UnreadableRows } from './unreadable.js'
import type { Attachment, HistoryPage, HistoryQuery, Message, NewMessage, StoredMessage } from './types.js'

interface MessageRow {
  id: number
  room_id: number
  user_id: number
  username: string
  body: string
  attachment: string | null
  client_id: string | null
  created_at: string
  seq: number
}

const COLUMNS = `m.id, m.room_id, m.user_id, u.username, m.body, m.attachment, m.client_id, m.created_at, m.seq
  FROM messages m JOIN users u ON u.id = m.user_id`

const messageOf = (row: MessageRow, body: string, attachment: Attachment | null): Message => ({
  id: row.id,
  roomId: row.room_id,
  author: { id: row.user_id, username: row.username },
  body,
  attachment,
  clientId: row.client_id,
  createdAt: row.created_at,
  seq: row.seq
})

/** A send that failed on its own, inside a batch that committed the others. */
export class RoomMissingError extends Error {
  constructor () {
    super('room not found')
    this.name = 'RoomMissingError'
  }
}

/** A send to an archived room (API.md "Conversations"): refused in the transaction, so none slips past an archive. */
export class RoomArchivedError extends Error {
  constructor () {
    super('room archived')
    this.name = 'RoomArchivedError'
  }
}

export type InsertResult = { ok: true, value: StoredMessage } | { ok: false, error: unknown }

export function createMessagesRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows) {
  const insert = db.prepare<[number, number, string, string | null, string | null, string, number], { id: number }>(
    'INSERT INTO messages (room_id, user_id, body, attachment, client_id, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id')
  const byClientId = db.prepare<[number, number, string], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.user_id = ? AND m.client_id = ?`)
  // The room's next seq (migration 5) and its unread counter (migration 3), in the same savepoint
  // as the row they count; no row back means no such room.
  const nextSeq = db.prepare<[number], number>(
    'UPDATE rooms SET last_seq = last_seq + 1, message_count = message_count + 1 WHERE id = ? AND archived = 0 RETURNING last_seq').pluck()
  const roomExists = db.prepare<[number], number>('SELECT 1 FROM rooms WHERE id = ?').pluck()
  const countSent = db.prepare<[number, number]>(`INSERT INTO sent_counts (user_id, room_id, sent) VALUES (?, ?, 1)
    ON CONFLICT (user_id, room_id) DO UPDATE SET sent = sent + 1`)
  // The (room_id, id) index serves all three: a range scan, then a limit.
  const newest = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`)
  const before = db.prepare<[number, number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`)
  const after = db.prepare<[number, number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id > ? ORDER BY m.id ASC LIMIT ?`)
  // The UNIQUE (room_id, seq) index serves it: what another node missed, in commit order.
  const afterSeq = db.prepare<[number, number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`)

  const toMessage = (row: MessageRow): Message => {
    let body: string
    let attachment: Attachment | null
    try {
      body = ring.decryptText(row.body)
      attachment = row.attachment === null ? null : JSON.parse(ring.decryptText(row.attachment)) as Attachment
    } catch {
      // One bad row must not take its whole page down: it comes back empty, marked as such.
      unreadable.saw(`message ${row.id}`)
      return { ...messageOf(row, '', null), unreadable: true }
    }
    return messageOf(row, body, attachment)
  }

  /** One send: the first message back for a repeated clientId, else a new row. No decrypt on the way in. */
  function insertOne (input: NewMessage): StoredMessage {
    const clientId = input.clientId ?? null
    if (clientId !== null) {
      const existing = byClientId.get(input.roomId, input.author.id, clientId)
      if (existing !== undefined) return { message: toMessage(existing), created: false }
    }
    const seq = nextSeq.get(input.roomId)
    if (seq === undefined) throw roomExists.get(input.roomId) === undefined ? new RoomMissingError() : new RoomArchivedError()
    const attachment = input.attachment ?? null
    const createdAt = input.createdAt ?? new Date().toISOString()
    const { id } = insert.get(input.roomId, input.author.id, ring.encrypt(input.body),
      attachment === null ? null : ring.encrypt(JSON.stringify(attachment)), clientId, createdAt, seq)!
    countSent.run(input.author.id, input.roomId)
    return {
      message: { id, roomId: input.roomId, author: { id: input.author.id, username: input.author.username }, body: input.body, attachment, clientId, createdAt, seq },
      created: true
    }
  }

  const savepoint = db.transaction(insertOne)
  // One transaction, one fsync for the whole group; each send in its own savepoint so one bad
  // send fails alone.
  const insertBatch = db.transaction((inputs: readonly NewMessage[]): InsertResult[] =>
    inputs.map((input) => {
      try {
        return { ok: true, value: savepoint(input) }
      } catch (error) {
        // SQLITE_FULL and I/O errors may roll back the whole transaction, not only the savepoint:
        // then none of the batch stands, and it fails as a whole.
        if (!db.inTransaction) throw error
        return { ok: false, error }
      }
    }))

  return {
    insert: (input: NewMessage): StoredMessage => savepoint.immediate(input),
    insertBatch: (inputs: readonly NewMessage[]): InsertResult[] => insertBatch.immediate(inputs),
    history (roomId: number, query: HistoryQuery): HistoryPage {
      const take = query.limit + 1 // one more than asked tells whether there is more
      if (query.after !== undefined) {
        const rows = after.all(roomId, query.after, take)
        return { messages: rows.slice(0, query.limit).map(toMessage), hasMore: rows.length > query.limit }
      }
      const rows = query.before !== undefined ? before.all(roomId, query.before, take) : newest.all(roomId, take)
      return { messages: rows.slice(0, query.limit).reverse().map(toMessage), hasMore: rows.length > query.limit }
    },
    afterSeq (roomId: number, seq: number, limit: number): HistoryPage {
      const rows = afterSeq.all(roomId, seq, limit + 1)
      return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit }
    }
  }
}
