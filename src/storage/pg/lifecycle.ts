// The message lifecycle on PostgreSQL: the same answers as storage/lifecycle.ts. A change locks
// its room row first (as every send does), so seqs stay gapless and in commit order across nodes.
// A delete overwrites the row; the old tuple stays in the table file until VACUUM reuses its
// space (see "Message lifecycle" in the README for what that means at rest).
import { forgetPlaintext } from '../../crypto/plaintext-cache.js'
import type { FernetRing } from '../../crypto/fernet.js'
import {
  centre, MAX_DISTINCT_REACTIONS, MessageDeletedError, MessageMissingError, TooManyReactionsError,
  type AroundPage, type Change, type ChangeResult, type ChangesPage, type EditVersion, type MessageChange, type Receipt, type Removal, type RoomLifecycleState
} from '../lifecycle-shape.js'
import type { LifecycleStore } from '../store.js'
import type { UnreadableRows } from '../unreadable.js'
import type { Author, IndexTokens, Message } from '../types.js'
import { iso, type Sql, type Tx } from './connect.js'
import { createPgMessageReader, pgColumns, type PgMessageRow } from './messages.js'
import { tsvectorOf } from './search.js'

interface State { user_id: number, deleted_at: Date | null }

/** The store, and one queued change inside the group commit's transaction (pg/writes.ts). */
export type PgLifecycleStore = LifecycleStore & { applyIn: (tx: Tx, change: MessageChange) => Promise<ChangeResult> }

export function createPgLifecycle (sql: Sql, ring: FernetRing, unreadable: UnreadableRows): PgLifecycleStore {
  const columns = pgColumns(sql)
  const toMessages = createPgMessageReader(sql, ring, unreadable)

  const read = async (tx: Sql | Tx, roomId: number, messageId: number): Promise<Message | null> => {
    const rows = await tx<PgMessageRow[]>`SELECT ${columns} WHERE m.id = ${messageId} AND m.room_id = ${roomId}`
    return rows.length === 0 ? null : (await toMessages(rows, tx))[0]!
  }

  /**
   * The changes, run on the pool (each its own transaction) or inside the group commit's
   * transaction (each its own savepoint, so one that fails rolls back alone).
   */
  function changesOn (on: Sql | Tx) {
    /** One change, as on SQLite: the room row locked, the state checked, `apply`, then the next seq if it changed anything. */
    async function commit (roomId: number, messageId: number, apply: (tx: Tx, state: State) => Promise<boolean>, allowDeleted = false): Promise<Change> {
      const work = async (tx: Tx): Promise<Change> => {
        const locked = await tx`SELECT 1 FROM rooms WHERE id = ${roomId} FOR UPDATE`
        if (locked.length === 0) throw new MessageMissingError()
        const [state] = await tx<State[]>`SELECT user_id, deleted_at FROM messages WHERE id = ${messageId} AND room_id = ${roomId}`
        if (state === undefined) throw new MessageMissingError()
        if (state.deleted_at !== null && !allowDeleted) throw new MessageDeletedError()
        const changed = await apply(tx, state)
        if (changed) {
          const [room] = await tx<Array<{ last_seq: number }>>`UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ${roomId} RETURNING last_seq`
          await tx`UPDATE messages SET seq = ${room!.last_seq} WHERE id = ${messageId}`
        }
        return { message: (await read(tx, roomId, messageId))!, changed }
      }
      return ('savepoint' in on ? await on.savepoint(work) : await on.begin(work)) as Change
    }

    return {
      async edit (roomId: number, messageId: number, body: string, mentions: readonly Author[], tokens?: IndexTokens): Promise<Change> {
        return await commit(roomId, messageId, async (tx) => {
          const now = new Date()
          await tx`INSERT INTO message_edits (message_id, body, edited_at) SELECT id, body, ${now} FROM messages WHERE id = ${messageId}`
          await tx`UPDATE messages SET body = ${ring.encrypt(body)}, edited_at = ${now} WHERE id = ${messageId}`
          await tx`DELETE FROM mentions WHERE message_id = ${messageId}`
          if (mentions.length > 0) {
            await tx`INSERT INTO mentions ${tx(mentions.map((m) => ({ message_id: messageId, user_id: m.id, room_id: roomId })))} ON CONFLICT DO NOTHING`
          }
          // The search index (migration 5): the new text's tokens replace the old ones.
          if (tokens === undefined) await tx`DELETE FROM message_search WHERE message_id = ${messageId}`
          else await tx`INSERT INTO message_search (message_id, tokens) VALUES (${messageId}, ${tsvectorOf(tokens)}::tsvector)
            ON CONFLICT (message_id) DO UPDATE SET tokens = excluded.tokens`
          return true
        })
      },
      async remove (roomId: number, messageId: number): Promise<Removal> {
        let files: string[] = []
        const result = await commit(roomId, messageId, async (tx, state) => {
          if (state.deleted_at !== null) return false
          files = (await tx<Array<{ name: string }>>`DELETE FROM media WHERE message_id = ${messageId} RETURNING name`).map((r) => r.name)
          // Its text must not outlive it in memory either (crypto/plaintext-cache.ts).
          const tokens = await tx<Array<{ body: string }>>`SELECT body FROM messages WHERE id = ${messageId} UNION ALL SELECT body FROM message_edits WHERE message_id = ${messageId}`
          forgetPlaintext(ring, tokens.map((t) => t.body))
          await tx`DELETE FROM message_edits WHERE message_id = ${messageId}`
          await tx`DELETE FROM reactions WHERE message_id = ${messageId}`
          await tx`DELETE FROM mentions WHERE message_id = ${messageId}`
          await tx`DELETE FROM message_search WHERE message_id = ${messageId}`
          await tx`UPDATE messages SET body = '', attachment = NULL, deleted_at = ${new Date()}, pinned_by = NULL, pinned_at = NULL WHERE id = ${messageId}`
          return true
        }, true)
        return { ...result, files }
      },
      async react (roomId: number, messageId: number, userId: number, emoji: string): Promise<Change> {
        return await commit(roomId, messageId, async (tx) => {
          const [counts] = await tx<Array<{ has: boolean, distinct: number }>>`SELECT bool_or(emoji = ${emoji}) AS has, count(DISTINCT emoji)::int AS distinct
            FROM reactions WHERE message_id = ${messageId}`
          if (counts?.has !== true && (counts?.distinct ?? 0) >= MAX_DISTINCT_REACTIONS) throw new TooManyReactionsError()
          const added = await tx`INSERT INTO reactions (message_id, emoji, user_id) VALUES (${messageId}, ${emoji}, ${userId}) ON CONFLICT DO NOTHING`
          return added.count > 0
        })
      },
      async unreact (roomId: number, messageId: number, userId: number, emoji: string): Promise<Change> {
        return await commit(roomId, messageId, async (tx) =>
          (await tx`DELETE FROM reactions WHERE message_id = ${messageId} AND emoji = ${emoji} AND user_id = ${userId}`).count > 0)
      },
      async pin (roomId: number, messageId: number, byUserId: number): Promise<Change> {
        return await commit(roomId, messageId, async (tx) =>
          (await tx`UPDATE messages SET pinned_by = ${byUserId}, pinned_at = ${new Date()} WHERE id = ${messageId} AND pinned_at IS NULL`).count > 0)
      },
      async unpin (roomId: number, messageId: number): Promise<Change> {
        return await commit(roomId, messageId, async (tx) =>
          (await tx`UPDATE messages SET pinned_by = NULL, pinned_at = NULL WHERE id = ${messageId} AND pinned_at IS NOT NULL`).count > 0, true)
      }
    }
  }
  const direct = changesOn(sql)

  return {
    get: async (roomId, messageId) => await read(sql, roomId, messageId),
    ...direct,
    async applyIn (tx: Tx, c: MessageChange): Promise<ChangeResult> {
      const on = changesOn(tx)
      switch (c.kind) {
        case 'edit': return { ...(await on.edit(c.roomId, c.messageId, c.body, c.mentions, c.tokens)), files: [] }
        case 'remove': return await on.remove(c.roomId, c.messageId)
        case 'react': return { ...(await on.react(c.roomId, c.messageId, c.userId, c.emoji)), files: [] }
        case 'unreact': return { ...(await on.unreact(c.roomId, c.messageId, c.userId, c.emoji)), files: [] }
        case 'pin': return { ...(await on.pin(c.roomId, c.messageId, c.byUserId)), files: [] }
        case 'unpin': return { ...(await on.unpin(c.roomId, c.messageId)), files: [] }
      }
    },
    async edits (roomId: number, messageId: number): Promise<EditVersion[]> {
      const found = await sql`SELECT 1 FROM messages WHERE id = ${messageId} AND room_id = ${roomId}`
      if (found.length === 0) throw new MessageMissingError()
      const rows = await sql<Array<{ body: string, edited_at: Date }>>`SELECT body, edited_at FROM message_edits WHERE message_id = ${messageId} ORDER BY id`
      return rows.map((v) => {
        try {
          return { body: ring.decryptText(v.body), editedAt: iso(v.edited_at) }
        } catch {
          unreadable.saw(`edit of message ${messageId}`)
          return { body: '', editedAt: iso(v.edited_at) }
        }
      })
    },
    pins: async (roomId) => await toMessages(await sql<PgMessageRow[]>`SELECT ${columns}
      WHERE m.room_id = ${roomId} AND m.pinned_at IS NOT NULL ORDER BY m.pinned_at DESC, m.id DESC`),
    async changes (roomId: number, since: number, limit: number): Promise<ChangesPage> {
      const [room] = await sql<Array<{ last_seq: number }>>`SELECT last_seq FROM rooms WHERE id = ${roomId}`
      const rows = await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.seq > ${since} ORDER BY m.seq ASC LIMIT ${limit + 1}`
      const page = await toMessages(rows.slice(0, limit))
      return { messages: page, lastSeq: Math.max(room?.last_seq ?? 0, page.at(-1)?.seq ?? 0), hasMore: rows.length > limit }
    },
    async around (roomId: number, messageId: number, limit: number): Promise<AroundPage | null> {
      const found = await sql`SELECT 1 FROM messages WHERE id = ${messageId} AND room_id = ${roomId}`
      if (found.length === 0) return null
      const olderRows = await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.id < ${messageId} ORDER BY m.id DESC LIMIT ${limit}`
      const newerRows = await sql<PgMessageRow[]>`SELECT ${columns} WHERE m.room_id = ${roomId} AND m.id >= ${messageId} ORDER BY m.id ASC LIMIT ${limit + 1}`
      const page = centre(olderRows, newerRows, limit)
      return { messages: await toMessages(page.rows), hasMoreBefore: page.hasMoreBefore, hasMoreAfter: page.hasMoreAfter }
    },
    async setMuted (userId: number, roomId: number, muted: boolean): Promise<void> {
      if (muted) await sql`INSERT INTO mutes (user_id, room_id) VALUES (${userId}, ${roomId}) ON CONFLICT DO NOTHING`
      else await sql`DELETE FROM mutes WHERE user_id = ${userId} AND room_id = ${roomId}`
    },
    async roomStates (userId: number): Promise<Map<number, RoomLifecycleState>> {
      const out = new Map<number, RoomLifecycleState>()
      const counts = await sql<Array<{ room_id: number, n: number }>>`SELECT mn.room_id, count(*)::int AS n FROM mentions mn
        LEFT JOIN read_markers r ON r.user_id = ${userId} AND r.room_id = mn.room_id
        WHERE mn.user_id = ${userId} AND mn.message_id > coalesce(r.last_read_id, 0) GROUP BY mn.room_id`
      for (const row of counts) out.set(row.room_id, { mentionCount: row.n, muted: false })
      for (const row of await sql<Array<{ room_id: number }>>`SELECT room_id FROM mutes WHERE user_id = ${userId}`) {
        out.set(row.room_id, { mentionCount: out.get(row.room_id)?.mentionCount ?? 0, muted: true })
      }
      return out
    },
    async receipts (roomId: number): Promise<Receipt[]> {
      const rows = await sql<Array<{ user_id: number, username: string, last_read_id: number, read_at: Date }>>`
        SELECT r.user_id, u.username, r.last_read_id, r.read_at FROM read_markers r JOIN users u ON u.id = r.user_id
        WHERE r.room_id = ${roomId} AND u.share_read_receipts AND r.read_at IS NOT NULL ORDER BY r.last_read_id DESC, r.user_id`
      return rows.map((r) => ({ user: { id: r.user_id, username: r.username }, lastReadId: r.last_read_id, at: iso(r.read_at) }))
    },
    async readMarker (userId: number, roomId: number): Promise<number | null> {
      const [row] = await sql<Array<{ last_read_id: number }>>`SELECT last_read_id FROM read_markers WHERE user_id = ${userId} AND room_id = ${roomId}`
      return row?.last_read_id ?? null
    },
    async sharesReadReceipts (userId: number): Promise<boolean> {
      const [row] = await sql<Array<{ share: boolean }>>`SELECT share_read_receipts AS share FROM users WHERE id = ${userId}`
      return row?.share === true
    },
    async setShareReadReceipts (userId: number, share: boolean): Promise<void> {
      await sql`UPDATE users SET share_read_receipts = ${share} WHERE id = ${userId}`
    }
  }
}
