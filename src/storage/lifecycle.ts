// The message lifecycle on SQLite (store.ts LifecycleStore): edits, deletes, reactions, pins,
// catch-up by seq, mutes and read receipts. Each change is one transaction that also takes the
// room's next seq: IMMEDIATE when called alone, a savepoint inside the group commit's batch
// (writes.ts, through `apply`). Deleted text must not linger: the database runs with
// secure_delete (database.ts), and a delete is followed shortly by a WAL checkpoint that
// truncates the log, so the pages that held the text leave the -wal file too.
import { forgetPlaintext } from '../crypto/plaintext-cache.js'
import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import {
  centre, MAX_DISTINCT_REACTIONS, MessageDeletedError, MessageMissingError, TooManyReactionsError,
  type AroundPage, type Change, type ChangeResult, type ChangesPage, type EditVersion, type MessageChange, type Receipt, type Removal, type RoomLifecycleState
} from './lifecycle-shape.js'
import { COLUMNS, createMessageReader, messageRows, type MessageRow } from './messages.js'
import type { UnreadableRows } from './unreadable.js'
import type { Author, IndexTokens, Message } from './types.js'

/** How soon after a delete the WAL is checkpointed and truncated. */
const CHECKPOINT_AFTER_DELETE_MS = 1000

interface State { user_id: number, deleted_at: string | null }

/**
 * What an edit or a delete does to the search index (sqlite-store.ts): the index is another file,
 * written by another thread, so this runs once the change's transaction has committed.
 */
export interface IndexEffects {
  replace: (messageId: number, tokens: IndexTokens | null) => void
  remove: (messageId: number) => void
}

export function createLifecycleRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows, index: IndexEffects) {
  const { toMessages } = createMessageReader(db, ring, unreadable)
  const byId = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.id = ? AND m.room_id = ?`)
  const stateOf = db.prepare<[number, number], State>('SELECT user_id, deleted_at FROM messages WHERE id = ? AND room_id = ?')
  const bump = db.prepare<[number], number>('UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq').pluck()
  const setSeq = db.prepare<[number, number]>('UPDATE messages SET seq = ? WHERE id = ?')

  const bodyOf = db.prepare<[number], string>('SELECT body FROM messages WHERE id = ?').pluck()
  const keepVersion = db.prepare<[number, string, string]>('INSERT INTO message_edits (message_id, body, edited_at) VALUES (?, ?, ?)')
  const setBody = db.prepare<[string, string, number]>('UPDATE messages SET body = ?, edited_at = ? WHERE id = ?')
  const clearMentions = db.prepare<[number]>('DELETE FROM mentions WHERE message_id = ?')
  const addMention = db.prepare<[number, number, number]>('INSERT OR IGNORE INTO mentions (message_id, user_id, room_id) VALUES (?, ?, ?)')

  const editTokens = db.prepare<[number], string>('SELECT body FROM message_edits WHERE message_id = ?').pluck()
  const filesOf = db.prepare<[number], string>('SELECT name FROM media WHERE message_id = ?').pluck()
  const destroy = [
    db.prepare<[number]>('DELETE FROM media WHERE message_id = ?'),
    db.prepare<[number]>('DELETE FROM message_edits WHERE message_id = ?'),
    db.prepare<[number]>('DELETE FROM reactions WHERE message_id = ?'),
    db.prepare<[number]>('DELETE FROM mentions WHERE message_id = ?')
  ]
  const tombstone = db.prepare<[string, number]>(
    "UPDATE messages SET body = '', attachment = NULL, deleted_at = ?, pinned_by = NULL, pinned_at = NULL WHERE id = ?")

  const hasEmoji = db.prepare<[number, string], number>('SELECT 1 FROM reactions WHERE message_id = ? AND emoji = ? LIMIT 1').pluck()
  const distinctEmoji = db.prepare<[number], number>('SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = ?').pluck()
  const addReaction = db.prepare<[number, string, number]>('INSERT OR IGNORE INTO reactions (message_id, emoji, user_id) VALUES (?, ?, ?)')
  const removeReaction = db.prepare<[number, string, number]>('DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?')

  const setPin = db.prepare<[number, string, number]>('UPDATE messages SET pinned_by = ?, pinned_at = ? WHERE id = ? AND pinned_at IS NULL')
  const clearPin = db.prepare<[number]>('UPDATE messages SET pinned_by = NULL, pinned_at = NULL WHERE id = ? AND pinned_at IS NOT NULL')

  const versions = db.prepare<[number], { body: string, edited_at: string }>('SELECT body, edited_at FROM message_edits WHERE message_id = ? ORDER BY id')
  const pinned = db.prepare<[number], MessageRow>(`SELECT ${COLUMNS} WHERE m.room_id = ? AND m.pinned_at IS NOT NULL ORDER BY m.pinned_at DESC, m.id DESC`)
  const afterSeq = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`)
  const lastSeq = db.prepare<[number], number>('SELECT last_seq FROM rooms WHERE id = ?').pluck()
  const older = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`)
  const fromHere = messageRows<[number, number, number]>(db, `SELECT ${COLUMNS} WHERE m.room_id = ? AND m.id >= ? ORDER BY m.id ASC LIMIT ?`)

  const mute = db.prepare<[number, number]>('INSERT OR IGNORE INTO mutes (user_id, room_id) VALUES (?, ?)')
  const unmute = db.prepare<[number, number]>('DELETE FROM mutes WHERE user_id = ? AND room_id = ?')
  const mutedRooms = db.prepare<[number], number>('SELECT room_id FROM mutes WHERE user_id = ?').pluck()
  // Mentions after the marker: a range of the (user_id, room_id, message_id) index per room.
  const mentionCounts = db.prepare<{ user: number }, { room_id: number, n: number }>(`SELECT mn.room_id, count(*) AS n FROM mentions mn
    LEFT JOIN read_markers r ON r.user_id = @user AND r.room_id = mn.room_id
    WHERE mn.user_id = @user AND mn.message_id > coalesce(r.last_read_id, 0) GROUP BY mn.room_id`)
  const receiptRows = db.prepare<[number], { user_id: number, username: string, last_read_id: number, read_at: string | null }>(`
    SELECT r.user_id, u.username, r.last_read_id, r.read_at FROM read_markers r JOIN users u ON u.id = r.user_id
    WHERE r.room_id = ? AND u.share_read_receipts = 1 AND r.read_at IS NOT NULL ORDER BY r.last_read_id DESC, r.user_id`)
  const marker = db.prepare<[number, number], number>('SELECT last_read_id FROM read_markers WHERE user_id = ? AND room_id = ?').pluck()
  const shares = db.prepare<[number], number>('SELECT share_read_receipts FROM users WHERE id = ?').pluck()
  const setShares = db.prepare<[number, number]>('UPDATE users SET share_read_receipts = ? WHERE id = ?')

  const read = (roomId: number, messageId: number): Message => toMessages([byId.get(messageId, roomId)!])[0]!

  /**
   * One change: `apply` runs on the current state and says whether it changed anything; if so
   * the room's next seq becomes the message's. The message is read back inside the transaction.
   */
  function changeIn (roomId: number, messageId: number, allowDeleted: boolean, apply: (state: State) => boolean): Change {
    const state = stateOf.get(messageId, roomId)
    if (state === undefined) throw new MessageMissingError()
    if (state.deleted_at !== null && !allowDeleted) throw new MessageDeletedError()
    const changed = apply(state)
    if (changed) setSeq.run(bump.get(roomId)!, messageId)
    return { message: read(roomId, messageId), changed }
  }
  const change = db.transaction(changeIn)
  const commit = (roomId: number, messageId: number, apply: (state: State) => boolean, allowDeleted = false): Change =>
    change.immediate(roomId, messageId, allowDeleted, apply)

  let checkpoint: ReturnType<typeof setTimeout> | null = null
  function checkpointSoon (): void {
    if (checkpoint !== null) return
    checkpoint = setTimeout(() => {
      checkpoint = null
      if (!db.open) return
      // TRUNCATE: the log's frames (old page images holding the text) are copied back and the
      // file cut to zero. A reader holding an old snapshot makes it a partial checkpoint; the
      // next delete or SQLite's own checkpoints finish it.
      try { db.pragma('wal_checkpoint(TRUNCATE)') } catch {}
    }, CHECKPOINT_AFTER_DELETE_MS)
    checkpoint.unref()
  }

  const repo = {
    get (roomId: number, messageId: number): Message | null {
      const row = byId.get(messageId, roomId)
      return row === undefined ? null : toMessages([row])[0]!
    },
    edit (roomId: number, messageId: number, body: string, mentions: readonly Author[], tokens?: IndexTokens): Change {
      const result = commit(roomId, messageId, () => {
        const now = new Date().toISOString()
        keepVersion.run(messageId, bodyOf.get(messageId)!, now)
        setBody.run(ring.encrypt(body), now, messageId)
        clearMentions.run(messageId)
        for (const person of mentions) addMention.run(messageId, person.id, roomId)
        return true
      })
      // The new text's tokens, or none (no index keys given): the old words must not find it.
      index.replace(messageId, tokens ?? null)
      return result
    },
    remove (roomId: number, messageId: number): Removal {
      let files: string[] = []
      const result = commit(roomId, messageId, (state) => {
        if (state.deleted_at !== null) return false
        files = filesOf.all(messageId)
        // Its text must not outlive it in memory either (crypto/plaintext-cache.ts).
        forgetPlaintext(ring, [bodyOf.get(messageId)!, ...editTokens.all(messageId)])
        for (const statement of destroy) statement.run(messageId)
        tombstone.run(new Date().toISOString(), messageId)
        return true
      }, true)
      if (result.changed) {
        index.remove(messageId)
        checkpointSoon()
      }
      return { ...result, files }
    },
    react (roomId: number, messageId: number, userId: number, emoji: string): Change {
      return commit(roomId, messageId, () => {
        if (hasEmoji.get(messageId, emoji) === undefined && distinctEmoji.get(messageId)! >= MAX_DISTINCT_REACTIONS) throw new TooManyReactionsError()
        return addReaction.run(messageId, emoji, userId).changes > 0
      })
    },
    unreact (roomId: number, messageId: number, userId: number, emoji: string): Change {
      return commit(roomId, messageId, () => removeReaction.run(messageId, emoji, userId).changes > 0)
    },
    pin (roomId: number, messageId: number, byUserId: number): Change {
      return commit(roomId, messageId, () => setPin.run(byUserId, new Date().toISOString(), messageId).changes > 0)
    },
    unpin (roomId: number, messageId: number): Change {
      return commit(roomId, messageId, () => clearPin.run(messageId).changes > 0, true)
    },
    edits (roomId: number, messageId: number): EditVersion[] {
      if (stateOf.get(messageId, roomId) === undefined) throw new MessageMissingError()
      return versions.all(messageId).map((v) => {
        try {
          return { body: ring.decryptText(v.body), editedAt: v.edited_at }
        } catch {
          unreadable.saw(`edit of message ${messageId}`)
          return { body: '', editedAt: v.edited_at }
        }
      })
    },
    pins: (roomId: number): Message[] => toMessages(pinned.all(roomId)),
    changes (roomId: number, since: number, limit: number): ChangesPage {
      // The head first: whatever commits between the two reads is found by the next call.
      const last = lastSeq.get(roomId) ?? 0
      const rows = afterSeq(roomId, since, limit + 1)
      const page = toMessages(rows.slice(0, limit))
      return { messages: page, lastSeq: Math.max(last, page.at(-1)?.seq ?? 0), hasMore: rows.length > limit }
    },
    around (roomId: number, messageId: number, limit: number): AroundPage | null {
      if (stateOf.get(messageId, roomId) === undefined) return null
      const page = centre(older(roomId, messageId, limit), fromHere(roomId, messageId, limit + 1), limit)
      return { messages: toMessages(page.rows), hasMoreBefore: page.hasMoreBefore, hasMoreAfter: page.hasMoreAfter }
    },
    setMuted (userId: number, roomId: number, muted: boolean): void {
      if (muted) mute.run(userId, roomId)
      else unmute.run(userId, roomId)
    },
    roomStates (userId: number): Map<number, RoomLifecycleState> {
      const out = new Map<number, RoomLifecycleState>()
      for (const row of mentionCounts.all({ user: userId })) out.set(row.room_id, { mentionCount: row.n, muted: false })
      for (const roomId of mutedRooms.all(userId)) out.set(roomId, { mentionCount: out.get(roomId)?.mentionCount ?? 0, muted: true })
      return out
    },
    receipts: (roomId: number): Receipt[] => receiptRows.all(roomId).map((r) => ({
      user: { id: r.user_id, username: r.username }, lastReadId: r.last_read_id, at: r.read_at!
    })),
    readMarker: (userId: number, roomId: number): number | null => marker.get(userId, roomId) ?? null,
    sharesReadReceipts: (userId: number): boolean => shares.get(userId) === 1,
    setShareReadReceipts (userId: number, share: boolean): void {
      setShares.run(share ? 1 : 0, userId)
    }
  }

  /** One queued change (store.ts Write), by the method of its kind. */
  function apply (c: MessageChange): ChangeResult {
    switch (c.kind) {
      case 'edit': return { ...repo.edit(c.roomId, c.messageId, c.body, c.mentions, c.tokens), files: [] }
      case 'remove': return repo.remove(c.roomId, c.messageId)
      case 'react': return { ...repo.react(c.roomId, c.messageId, c.userId, c.emoji), files: [] }
      case 'unreact': return { ...repo.unreact(c.roomId, c.messageId, c.userId, c.emoji), files: [] }
      case 'pin': return { ...repo.pin(c.roomId, c.messageId, c.byUserId), files: [] }
      case 'unpin': return { ...repo.unpin(c.roomId, c.messageId), files: [] }
    }
  }
  return { ...repo, apply }
}
