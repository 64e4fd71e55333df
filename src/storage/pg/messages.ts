// Messages on PostgreSQL. A batch is one transaction: its rooms are locked in id order (every
// writer of a room takes that row lock first, so two nodes never interleave in one room), each
// new message takes its room's next seq, the rows go in with one INSERT, the counters move, and
// COMMIT. Ids are drawn under the room lock too, so within a room they also grow in commit order.
import type { FernetRing } from '../../crypto/fernet.js'
import { groupMentions, groupReactions, MessageDeletedError, MessageMissingError, messageOfRow, excerptOf, type StoredMessageRow, type MentionRow, type ReactionRow } from '../lifecycle-shape.js'
import { decryptOr, newLifecycle, RoomArchivedError, RoomMissingError, type InsertResult } from '../messages.js'
import type { MessagesStore } from '../store.js'
import type { UnreadableRows } from '../unreadable.js'
import type { HistoryPage, HistoryQuery, Message, NewMessage, StoredMessage } from '../types.js'
import { iso, type Sql, type Tx } from './connect.js'

/** A message row on PostgreSQL: times are Dates. */
export interface PgMessageRow extends StoredMessageRow {
  created_at: Date
}

/** A clientId met again after the room lock was taken: should not happen; the batch is retried whole. */
class DuplicateUnderLock extends Error {
  readonly code = '40001' // serialization_failure: the store's callers try again
  constructor () {
    super('a clientId appeared in a locked room')
  }
}

/** A message row with its author, its parent (for the reply quote) and who pinned it. */
export const pgColumns = (sql: Sql) => sql`m.id, m.room_id, m.user_id, u.username, m.body, m.attachment, m.client_id, m.created_at, m.seq,
  m.edited_at, m.deleted_at, m.reply_to, p.user_id AS parent_user_id, pu.username AS parent_username, p.body AS parent_body,
  p.deleted_at AS parent_deleted, m.pinned_by, pb.username AS pinned_by_name, m.pinned_at
  FROM messages m JOIN users u ON u.id = m.user_id
  LEFT JOIN messages p ON p.id = m.reply_to LEFT JOIN users pu ON pu.id = p.user_id
  LEFT JOIN users pb ON pb.id = m.pinned_by`

/** Rows → messages, as on SQLite (storage/messages.ts createMessageReader). */
export function createPgMessageReader (sql: Sql, ring: FernetRing, unreadable: UnreadableRows) {
  return async function toMessages (rows: readonly PgMessageRow[], tx: Sql | Tx = sql): Promise<Message[]> {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const reactions = groupReactions(await tx<ReactionRow[]>`SELECT message_id, emoji, user_id FROM reactions WHERE message_id = ANY(${ids}::bigint[]) ORDER BY id`)
    const mentions = groupMentions(await tx<MentionRow[]>`SELECT mn.message_id, mn.user_id, u.username FROM mentions mn
      JOIN users u ON u.id = mn.user_id WHERE mn.message_id = ANY(${ids}::bigint[]) ORDER BY mn.message_id, mn.user_id`)
    return rows.map((row) => messageOfRow(row, iso, ring, unreadable, reactions, mentions))
  }
}

/** The store, and its batch insert inside a transaction the caller holds (the import's: its other rows commit with the messages). */
export type PgMessagesStore = MessagesStore & { insertIn: (tx: Tx, inputs: readonly NewMessage[]) => Promise<InsertResult[]> }

export function createPgMessages (sql: Sql, ring: FernetRing, unreadable: UnreadableRows): PgMessagesStore {
  const columns = pgColumns(sql)
  const toMessages = createPgMessageReader(sql, ring, unreadable)

  async function insertBatch (inputs: readonly NewMessage[]): Promise<InsertResult[]> {
    if (inputs.length === 0) return []
    return await sql.begin(async (tx) => await insertIn(tx, inputs))
  }

  async function insertIn (tx: Tx, inputs: readonly NewMessage[]): Promise<InsertResult[]> {
    if (inputs.length === 0) return []
    const roomIds = [...new Set(inputs.map((i) => i.roomId))].sort((a, b) => a - b)
    const locked = await tx<Array<{ id: number, last_seq: number, archived: boolean }>>`
      SELECT id, last_seq, archived FROM rooms WHERE id = ANY(${roomIds}::int[]) ORDER BY id FOR UPDATE`
    const lastSeq = new Map(locked.filter((r) => !r.archived).map((r) => [r.id, r.last_seq]))
    const archived = new Set(locked.filter((r) => r.archived).map((r) => r.id))

    // Retries: the first message of each (room, sender, clientId), stored or earlier in this batch.
    const key = (roomId: number, userId: number, clientId: string): string => `${roomId}\u0000${userId}\u0000${clientId}`
    const existing = new Map<string, Message>()
    const clientIds = [...new Set(inputs.flatMap((i) => (i.clientId == null ? [] : [i.clientId])))]
    if (clientIds.length > 0) {
      const rows = await tx<PgMessageRow[]>`SELECT ${columns}
        WHERE m.room_id = ANY(${roomIds}::int[]) AND m.client_id = ANY(${clientIds}::text[])`
      const messages = await toMessages(rows, tx)
      for (const [i, row] of rows.entries()) existing.set(key(row.room_id, row.user_id, row.client_id!), messages[i]!)
    }

    // Reply parents, read under the room locks: a parent cannot be deleted before this commits.
    const parentIds = [...new Set(inputs.flatMap((i) => (i.replyTo == null ? [] : [i.replyTo])))]
    const parents = new Map<number, { room_id: number, user_id: number, username: string, body: string, deleted_at: Date | null }>()
    if (parentIds.length > 0) {
      const rows = await tx<Array<{ id: number, room_id: number, user_id: number, username: string, body: string, deleted_at: Date | null }>>`
        SELECT m.id, m.room_id, m.user_id, u.username, m.body, m.deleted_at FROM messages m JOIN users u ON u.id = m.user_id
        WHERE m.id = ANY(${parentIds}::bigint[])`
      for (const row of rows) parents.set(row.id, row)
    }

    const results: InsertResult[] = []
    const fresh: Array<{ index: number, message: Message, body: string, attachment: string | null }> = []
    const inBatch = new Map<string, number>()
    const createdAt = new Date()
    for (const [index, input] of inputs.entries()) {
      const clientId = input.clientId ?? null
      const k = clientId === null ? null : key(input.roomId, input.author.id, clientId)
      const stored = k === null ? undefined : existing.get(k)
      if (stored !== undefined) {
        results.push({ ok: true, value: { message: stored, created: false } })
        continue
      }
      const earlier = k === null ? undefined : inBatch.get(k)
      if (earlier !== undefined) {
        results.push({ ok: true, value: { message: fresh[earlier]!.message, created: false } })
        continue
      }
      const last = lastSeq.get(input.roomId)
      if (last === undefined) {
        results.push({ ok: false, error: archived.has(input.roomId) ? new RoomArchivedError() : new RoomMissingError() })
        continue
      }
      let replyTo: Message['replyTo'] = null
      if (input.replyTo != null) {
        const parent = parents.get(input.replyTo)
        if (parent === undefined || parent.room_id !== input.roomId) {
          results.push({ ok: false, error: new MessageMissingError() })
          continue
        }
        if (parent.deleted_at !== null) {
          results.push({ ok: false, error: new MessageDeletedError() })
          continue
        }
        replyTo = { id: input.replyTo, author: { id: parent.user_id, username: parent.username }, excerpt: excerptOf(decryptOr(ring, parent.body)) }
      }
      lastSeq.set(input.roomId, last + 1)
      const attachment = input.attachment ?? null
      const message: Message = {
        id: 0, roomId: input.roomId, author: { id: input.author.id, username: input.author.username }, body: input.body,
        attachment, clientId, createdAt: input.createdAt ?? createdAt.toISOString(), seq: last + 1, ...newLifecycle(replyTo, input.mentions ?? [])
      }
      if (k !== null) inBatch.set(k, fresh.length)
      fresh.push({ index, message, body: ring.encrypt(input.body), attachment: attachment === null ? null : ring.encrypt(JSON.stringify(attachment)) })
      results.push({ ok: true, value: { message, created: true } })
    }
    if (fresh.length === 0) return results

    const rows = fresh.map((f) => ({
      room_id: f.message.roomId, user_id: f.message.author.id, body: f.body, attachment: f.attachment,
      client_id: f.message.clientId, created_at: f.message.createdAt, seq: f.message.seq, reply_to: f.message.replyTo?.id ?? null
    }))
    const inserted = await tx<Array<{ id: number, room_id: number, seq: number }>>`
      INSERT INTO messages ${tx(rows)}
      ON CONFLICT (room_id, user_id, client_id) DO NOTHING RETURNING id, room_id, seq`
    if (inserted.length !== fresh.length) throw new DuplicateUnderLock()
    const idOf = new Map(inserted.map((r) => [`${r.room_id}:${r.seq}`, r.id]))
    for (const f of fresh) f.message.id = idOf.get(`${f.message.roomId}:${f.message.seq}`)!
    const mentionRows = fresh.flatMap((f) => f.message.mentions.map((m) => ({ message_id: f.message.id, user_id: m.id, room_id: f.message.roomId })))
    if (mentionRows.length > 0) await tx`INSERT INTO mentions ${tx(mentionRows)} ON CONFLICT DO NOTHING`

    // The counters: each room's last seq and message count, each sender's count per room.
    const perRoom = new Map<number, number>()
    const perSender = new Map<string, [number, number, number]>()
    for (const f of fresh) {
      perRoom.set(f.message.roomId, (perRoom.get(f.message.roomId) ?? 0) + 1)
      const s = `${f.message.author.id}:${f.message.roomId}`
      const entry = perSender.get(s) ?? [f.message.author.id, f.message.roomId, 0]
      entry[2]++
      perSender.set(s, entry)
    }
    const roomRows = [...perRoom].map(([id, n]) => [id, lastSeq.get(id)!, n])
    await tx`UPDATE rooms SET last_seq = v.last_seq::bigint, message_count = rooms.message_count + v.n::bigint
      FROM (VALUES ${tx(roomRows)}) AS v (id, last_seq, n) WHERE rooms.id = v.id::int`
    await tx`INSERT INTO sent_counts ${tx([...perSender.values()].map(([user_id, room_id, sent]) => ({ user_id, room_id, sent })))}
      ON CONFLICT (user_id, room_id) DO UPDATE SET sent = sent_counts.sent + excluded.sent`
    return results
  }

  return {
    insertIn,
    async insert (input: NewMessage): Promise<StoredMessage> {
      const [result] = await insertBatch([input])
      if (!result!.ok) throw result!.error
      return result!.value
    },
    insertBatch,
    async history (roomId: number, query: HistoryQuery): Promise<HistoryPage> {
      const take = query.limit + 1 // one more than asked tells whether there is more
      if (query.after !== undefined) {
        const rows = await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.id > ${query.after} ORDER BY m.id ASC LIMIT ${take}`
        return { messages: await toMessages(rows.slice(0, query.limit)), hasMore: rows.length > query.limit }
      }
      const rows = query.before !== undefined
        ? await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.id < ${query.before} ORDER BY m.id DESC LIMIT ${take}`
        : await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} ORDER BY m.id DESC LIMIT ${take}`
      return { messages: await toMessages(rows.slice(0, query.limit).reverse()), hasMore: rows.length > query.limit }
    },
    async afterSeq (roomId: number, seq: number, limit: number): Promise<HistoryPage> {
      const rows = await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.seq > ${seq} ORDER BY m.seq ASC LIMIT ${limit + 1}`
      return { messages: await toMessages(rows.slice(0, limit)), hasMore: rows.length > limit }
    }
  }
}
