import type { FernetRing } from '../crypto/fernet.js'
import { savepointBatch } from './batch.js'
import type { Db } from './database.js'
import {
  excerptOf, groupMentions, groupReactions, MessageDeletedError, MessageMissingError, messageOfRow,
  type StoredMessageRow, type MentionRow, type ReactionRow
} from './lifecycle-shape.js'
import type { UnreadableRows } from './unreadable.js'
import type { HistoryPage, HistoryQuery, Message, NewMessage, Outcome, StoredMessage } from './types.js'

/** A message row on SQLite: times are ISO text. */
export interface MessageRow extends StoredMessageRow {
  created_at: string
}

/** A message row with its author, its parent (for the reply quote) and who pinned it. */
export const COLUMNS = `m.id, m.room_id, m.user_id, u.username, m.body, m.attachment, m.client_id, m.created_at, m.seq,
  m.edited_at, m.deleted_at, m.reply_to, p.user_id AS parent_user_id, pu.username AS parent_username, p.body AS parent_body,
  p.deleted_at AS parent_deleted, m.pinned_by, pb.username AS pinned_by_name, m.pinned_at
  FROM messages m JOIN users u ON u.id = m.user_id
  LEFT JOIN messages p ON p.id = m.reply_to LEFT JOIN users pu ON pu.id = p.user_id
  LEFT JOIN users pb ON pb.id = m.pinned_by`

const same = (value: string | Date): string => String(value)

/** The names COLUMNS gives, in its order (checked against each statement when it is prepared). */
const FIELDS = ['id', 'room_id', 'user_id', 'username', 'body', 'attachment', 'client_id', 'created_at', 'seq', 'edited_at', 'deleted_at', 'reply_to',
  'parent_user_id', 'parent_username', 'parent_body', 'parent_deleted', 'pinned_by', 'pinned_by_name', 'pinned_at']

type Values = readonly unknown[]
const int = (value: unknown): number => value as number
const text = (value: unknown): string => value as string
const intOrNull = (value: unknown): number | null => value as number | null
const textOrNull = (value: unknown): string | null => value as string | null
const toRow = (v: Values): MessageRow => ({
  id: int(v[0]), room_id: int(v[1]), user_id: int(v[2]), username: text(v[3]), body: text(v[4]), attachment: textOrNull(v[5]), client_id: textOrNull(v[6]),
  created_at: text(v[7]), seq: int(v[8]), edited_at: textOrNull(v[9]), deleted_at: textOrNull(v[10]), reply_to: intOrNull(v[11]),
  parent_user_id: intOrNull(v[12]), parent_username: textOrNull(v[13]), parent_body: textOrNull(v[14]), parent_deleted: textOrNull(v[15]),
  pinned_by: intOrNull(v[16]), pinned_by_name: textOrNull(v[17]), pinned_at: textOrNull(v[18])
})

/**
 * A statement that selects COLUMNS, as a function answering rows. The driver hands the values over
 * as arrays (raw mode) and each row is built here: better-sqlite3 building the objects itself,
 * property by property, cost ~100 µs of a 51-row history page, about as much as the rest of
 * reading it.
 */
export function messageRows<P extends unknown[]> (db: Db, sql: string): (...params: P) => MessageRow[] {
  const statement = db.prepare<P, Values>(sql).raw()
  const names = statement.columns().map((c) => c.name)
  if (names.join() !== FIELDS.join()) throw new Error(`a message statement selects ${names.join()}, not COLUMNS`)
  return (...params) => statement.all(...params).map(toRow)
}

/**
 * Rows → messages: bodies decrypted (a tombstone's is "" without decrypting), reply quotes from
 * the joined parent, reactions and mentions fetched for the whole page in one query each.
 */
export function createMessageReader (db: Db, ring: FernetRing, unreadable: UnreadableRows) {
  const reactionsOf = db.prepare<[string], ReactionRow>(
    'SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id')
  const mentionsOf = db.prepare<[string], MentionRow>(`SELECT mn.message_id, mn.user_id, u.username FROM mentions mn
    JOIN users u ON u.id = mn.user_id WHERE mn.message_id IN (SELECT value FROM json_each(?)) ORDER BY mn.message_id, mn.user_id`)

  function toMessages (rows: readonly MessageRow[]): Message[] {
    if (rows.length === 0) return []
    const ids = JSON.stringify(rows.map((r) => r.id))
    const reactions = groupReactions(reactionsOf.all(ids))
    const mentions = groupMentions(mentionsOf.all(ids))
    return rows.map((row) => messageOfRow(row, same, ring, unreadable, reactions, mentions))
  }
  return { toMessages, toMessage: (row: MessageRow): Message => toMessages([row])[0]! }
}

/** The text of a token, or "" when no key reads it (an excerpt must not fail a send). */
export const decryptOr = (ring: FernetRing, token: string): string => {
  try {
    return ring.decryptText(token)
  } catch {
    return ''
  }
}

/** A new message's lifecycle fields: not edited, deleted, reacted to or pinned yet. */
export const newLifecycle = (replyTo: Message['replyTo'], mentions: readonly Message['mentions'][number][]): Pick<Message, 'editedAt' | 'deletedAt' | 'replyTo' | 'reactions' | 'mentions' | 'pinned'> =>
  ({ editedAt: null, deletedAt: null, replyTo, reactions: [], mentions: mentions.map((m) => ({ id: m.id, username: m.username })), pinned: null })

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

export type InsertResult = Outcome<StoredMessage>

export function createMessagesRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows) {
  const insert = db.prepare<[number, number, string, string | null, string | null, string, number, number | null], { id: number }>(
    'INSERT INTO messages (room_id, user_id, body, attachment, client_id, created_at, seq, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id')
  const byClientId = db.prepare<[number, number, string], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.user_id = ? AND m.client_id = ?`)
  const parentOf = db.prepare<[number, number], { user_id: number, username: string, body: string, deleted_at: string | null }>(
    'SELECT m.user_id, u.username, m.body, m.deleted_at FROM messages m JOIN users u ON u.id = m.user_id WHERE m.id = ? AND m.room_id = ?')
  const mention = db.prepare<[number, number, number]>('INSERT OR IGNORE INTO mentions (message_id, user_id, room_id) VALUES (?, ?, ?)')
  // The room's next seq (migration 5) and its unread counter (migration 3), in the same savepoint
  // as the row they count; no row back means no such room.
  const nextSeq = db.prepare<[number], number>(
    'UPDATE rooms SET last_seq = last_seq + 1, message_count = message_count + 1 WHERE id = ? AND archived = 0 RETURNING last_seq').pluck()
  const roomExists = db.prepare<[number], number>('SELECT 1 FROM rooms WHERE id = ?').pluck()
  const countSent = db.prepare<[number, number]>(`INSERT INTO sent_counts (user_id, room_id, sent) VALUES (?, ?, 1)
    ON CONFLICT (user_id, room_id) DO UPDATE SET sent = sent + 1`)
  // The (room_id, id) index serves all three: a range scan, then a limit.
  const newest = messageRows<[number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`)
  const before = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`)
  const after = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id > ? ORDER BY m.id ASC LIMIT ?`)
  // The UNIQUE (room_id, seq) index serves it: what another node missed, in commit order.
  const afterSeq = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`)

  const { toMessage, toMessages } = createMessageReader(db, ring, unreadable)

  /** One send: the first message back for a repeated clientId, else a new row. No decrypt on the way in. */
  function insertOne (input: NewMessage): StoredMessage {
    const clientId = input.clientId ?? null
    if (clientId !== null) {
      const existing = byClientId.get(input.roomId, input.author.id, clientId)
      if (existing !== undefined) return { message: toMessage(existing), created: false }
    }
    const seq = nextSeq.get(input.roomId)
    if (seq === undefined) throw roomExists.get(input.roomId) === undefined ? new RoomMissingError() : new RoomArchivedError()
    let replyTo: Message['replyTo'] = null
    if (input.replyTo != null) {
      const parent = parentOf.get(input.replyTo, input.roomId)
      if (parent === undefined) throw new MessageMissingError()
      if (parent.deleted_at !== null) throw new MessageDeletedError()
      replyTo = { id: input.replyTo, author: { id: parent.user_id, username: parent.username }, excerpt: excerptOf(decryptOr(ring, parent.body)) }
    }
    const attachment = input.attachment ?? null
    const createdAt = input.createdAt ?? new Date().toISOString()
    const { id } = insert.get(input.roomId, input.author.id, ring.encrypt(input.body),
      attachment === null ? null : ring.encrypt(JSON.stringify(attachment)), clientId, createdAt, seq, replyTo?.id ?? null)!
    countSent.run(input.author.id, input.roomId)
    const mentions = input.mentions ?? []
    for (const person of mentions) mention.run(id, person.id, input.roomId)
    return {
      message: {
        id, roomId: input.roomId, author: { id: input.author.id, username: input.author.username }, body: input.body, attachment, clientId, createdAt, seq,
        ...newLifecycle(replyTo, mentions)
      },
      created: true
    }
  }

  const savepoint = db.transaction(insertOne)
  // One transaction, one fsync for the whole group; each send in its own savepoint so one bad
  // send fails alone.
  const insertBatch = savepointBatch(db, savepoint)

  return {
    insert: (input: NewMessage): StoredMessage => savepoint.immediate(input),
    insertBatch: (inputs: readonly NewMessage[]): InsertResult[] => insertBatch(inputs),
    history (roomId: number, query: HistoryQuery): HistoryPage {
      const take = query.limit + 1 // one more than asked tells whether there is more
      if (query.after !== undefined) {
        const rows = after(roomId, query.after, take)
        return { messages: toMessages(rows.slice(0, query.limit)), hasMore: rows.length > query.limit }
      }
      const rows = query.before !== undefined ? before(roomId, query.before, take) : newest(roomId, take)
      return { messages: toMessages(rows.slice(0, query.limit).reverse()), hasMore: rows.length > query.limit }
    },
    afterSeq (roomId: number, seq: number, limit: number): HistoryPage {
      const rows = afterSeq(roomId, seq, limit + 1)
      return { messages: toMessages(rows.slice(0, limit)), hasMore: rows.length > limit }
    }
  }
}
