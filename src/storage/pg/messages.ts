// Messages on PostgreSQL. A batch is one transaction in three round trips. First BEGIN, its
// rooms locked in id order (every writer of a room takes that row lock first, so two nodes never
// interleave in one room), and under the locks the retries and reply parents looked up and the
// ids drawn (so within a room ids grow in commit order, as seqs do). Then every write: the rows,
// mentions and counters, each one fixed statement over arrays. Then COMMIT.
import type { FernetRing } from '../../crypto/fernet.js'
import { groupMentions, groupReactions, MessageDeletedError, MessageMissingError, messageOfRow, excerptOf, type StoredMessageRow, type MentionRow, type ReactionRow } from '../lifecycle-shape.js'
import { decryptOr, newLifecycle, RoomArchivedError, RoomMissingError, type InsertResult } from '../messages.js'
import type { MessagesStore } from '../store.js'
import type { UnreadableRows } from '../unreadable.js'
import type { HistoryPage, HistoryQuery, Message, NewMessage, StoredMessage } from '../types.js'
import { iso, type Queries, type Sql, type Tx } from './connect.js'

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
  return async function toMessages (rows: readonly PgMessageRow[], tx: Queries = sql): Promise<Message[]> {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    // Both in one round trip (pipelined on a transaction's connection, side by side on the pool).
    const [reactionRows, mentionRows] = await Promise.all([
      tx<ReactionRow[]>`SELECT message_id, emoji, user_id FROM reactions WHERE message_id = ANY(${ids}::bigint[]) ORDER BY id`.execute(),
      tx<MentionRow[]>`SELECT mn.message_id, mn.user_id, u.username FROM mentions mn
        JOIN users u ON u.id = mn.user_id WHERE mn.message_id = ANY(${ids}::bigint[]) ORDER BY mn.message_id, mn.user_id`.execute()
    ])
    const reactions = groupReactions(reactionRows)
    const mentions = groupMentions(mentionRows)
    return rows.map((row) => messageOfRow(row, iso, ring, unreadable, reactions, mentions))
  }
}

/** The store, and its batch insert inside a transaction the caller holds (the import's: its other rows commit with the messages). */
export type PgMessagesStore = MessagesStore & { insertIn: (tx: Tx, inputs: readonly NewMessage[]) => Promise<InsertResult[]> }

export function createPgMessages (sql: Sql, ring: FernetRing, unreadable: UnreadableRows): PgMessagesStore {
  const columns = pgColumns(sql)
  const toMessages = createPgMessageReader(sql, ring, unreadable)

  // A send's batch on a connection of its own rather than sql.begin, whose BEGIN is a round trip
  // of its own: here it goes out with the batch's first statements. COMMIT waits for every write
  // to have succeeded, so a batch commits whole or not at all.
  async function insertBatch (inputs: readonly NewMessage[]): Promise<InsertResult[]> {
    if (inputs.length === 0) return []
    const conn = await sql.reserve()
    try {
      const results = await insertWith(conn, inputs, true)
      await conn`COMMIT`
      return results
    } catch (error) {
      await conn`ROLLBACK`.catch(() => {}) // a lost connection has rolled back already
      throw error
    } finally {
      conn.release()
    }
  }

  const insertIn = async (tx: Tx, inputs: readonly NewMessage[]): Promise<InsertResult[]> => await insertWith(tx, inputs, false)

  /** The batch's statements on `q`, a transaction already open, or one this opens first (`begin`). */
  async function insertWith (q: Queries, inputs: readonly NewMessage[], begin: boolean): Promise<InsertResult[]> {
    if (inputs.length === 0) return []
    const roomIds = [...new Set(inputs.map((i) => i.roomId))].sort((a, b) => a - b)
    const retries = inputs.filter((i) => i.clientId != null)
    const parentIds = [...new Set(inputs.flatMap((i) => (i.replyTo == null ? [] : [i.replyTo])))]
    // One round trip: these are pipelined and run in this order, so those after the lock run under
    // it (each statement of READ COMMITTED sees what committed before it began). Nothing is written
    // unless BEGIN succeeded: its failure fails this Promise.all.
    const [, locked, stored, parentRows, drawn] = await Promise.all([
      begin ? q`BEGIN`.execute() : null,
      q<Array<{ id: number, last_seq: number, archived: boolean }>>`
        SELECT id, last_seq, archived FROM rooms WHERE id = ANY(${roomIds}::int[]) ORDER BY id FOR UPDATE`.execute(),
      // Retries: probes of the (room_id, user_id, client_id) index, one per send, never a scan of the room.
      retries.length === 0
        ? []
        : q<PgMessageRow[]>`SELECT ${columns}
          JOIN unnest(${retries.map((i) => i.roomId)}::int[], ${retries.map((i) => i.author.id)}::int[], ${retries.map((i) => i.clientId!)}::text[])
            AS k (room_id, user_id, client_id) ON m.room_id = k.room_id AND m.user_id = k.user_id AND m.client_id = k.client_id`.execute(),
      // Reply parents: under the locks, a parent cannot be deleted before this commits.
      parentIds.length === 0
        ? []
        : q<Array<{ id: number, room_id: number, user_id: number, username: string, body: string, deleted_at: Date | null }>>`
          SELECT m.id, m.room_id, m.user_id, u.username, m.body, m.deleted_at FROM messages m JOIN users u ON u.id = m.user_id
          WHERE m.id = ANY(${parentIds}::bigint[])`.execute(),
      // Ids for every send, drawn under the locks (so ids grow with seq in each room) and known
      // before the INSERT, so the rows that point at them go in the same round trip. Those of
      // retries and refusals are skipped, as a rolled-back insert skips its own.
      q<Array<{ id: number }>>`WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('messages', 'id')::regclass AS seq)
        SELECT nextval(s.seq) AS id FROM s, generate_series(1, ${inputs.length}::int)`.execute()
    ])
    const lastSeq = new Map(locked.filter((r) => !r.archived).map((r) => [r.id, r.last_seq]))
    const archived = new Set(locked.filter((r) => r.archived).map((r) => r.id))
    const ids = drawn.map((r) => r.id).sort((a, b) => a - b)

    // The first message of each (room, sender, clientId), stored or earlier in this batch.
    const key = (roomId: number, userId: number, clientId: string): string => `${roomId}\u0000${userId}\u0000${clientId}`
    const existing = new Map<string, Message>()
    const messages = await toMessages(stored, q)
    for (const [i, row] of stored.entries()) existing.set(key(row.room_id, row.user_id, row.client_id!), messages[i]!)
    const parents = new Map(parentRows.map((row) => [row.id, row]))

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
        id: ids[fresh.length]!, roomId: input.roomId, author: { id: input.author.id, username: input.author.username }, body: input.body,
        attachment, clientId, createdAt: input.createdAt ?? createdAt.toISOString(), seq: last + 1, ...newLifecycle(replyTo, input.mentions ?? [])
      }
      if (k !== null) inBatch.set(k, fresh.length)
      fresh.push({ index, message, body: ring.encrypt(input.body), attachment: attachment === null ? null : ring.encrypt(JSON.stringify(attachment)) })
      results.push({ ok: true, value: { message, created: true } })
    }
    if (fresh.length === 0) return results

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
    const senders = [...perSender.values()]
    const mentionRows = fresh.flatMap((f) => f.message.mentions.map((m) => [f.message.id, m.id, f.message.roomId] as const))

    // Every write in one round trip, in this order (each a fixed statement over arrays, planned
    // once per connection whatever the batch's size). Any failure aborts the transaction whole.
    const m = fresh.map((f) => f.message)
    const writes: Array<Promise<unknown>> = [
      q`INSERT INTO messages (id, room_id, user_id, body, attachment, client_id, created_at, seq, reply_to)
        SELECT * FROM unnest(${m.map((x) => x.id)}::bigint[], ${m.map((x) => x.roomId)}::int[], ${m.map((x) => x.author.id)}::int[],
          ${fresh.map((f) => f.body)}::text[], ${fresh.map((f) => f.attachment)}::text[], ${m.map((x) => x.clientId)}::text[],
          ${m.map((x) => x.createdAt)}::timestamptz[], ${m.map((x) => x.seq)}::bigint[], ${m.map((x) => x.replyTo?.id ?? null)}::bigint[])`.execute()
    ]
    if (mentionRows.length > 0) {
      writes.push(q`INSERT INTO mentions (message_id, user_id, room_id)
        SELECT * FROM unnest(${mentionRows.map((r) => r[0])}::bigint[], ${mentionRows.map((r) => r[1])}::int[], ${mentionRows.map((r) => r[2])}::int[])
        ON CONFLICT DO NOTHING`.execute())
    }
    writes.push(q`UPDATE rooms SET last_seq = v.last_seq, message_count = rooms.message_count + v.n
      FROM unnest(${[...perRoom.keys()]}::int[], ${[...perRoom.keys()].map((id) => lastSeq.get(id)!)}::bigint[], ${[...perRoom.values()]}::bigint[])
        AS v (id, last_seq, n) WHERE rooms.id = v.id`.execute())
    writes.push(q`INSERT INTO sent_counts (user_id, room_id, sent)
      SELECT * FROM unnest(${senders.map((e) => e[0])}::int[], ${senders.map((e) => e[1])}::int[], ${senders.map((e) => e[2])}::bigint[])
      ON CONFLICT (user_id, room_id) DO UPDATE SET sent = sent_counts.sent + excluded.sent`.execute())
    try {
      await Promise.all(writes)
    } catch (error) {
      if ((error as { constraint_name?: string }).constraint_name === 'messages_client_id') throw new DuplicateUnderLock()
      throw error
    }
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
