import type { Db } from './database.js'
import type { ReadState } from './types.js'

/** Badges count at most this many unread messages ("999+"). */
export const UNREAD_CAP = 1000

/**
 * The unread count of room `r` for the user joined as read marker `m` and sent count `s`, from
 * counters alone (uncapped; see the LEFT JOINs in READ_STATE_JOINS).
 */
export const UNREAD_SQL = 'r.message_count - coalesce(m.read_count, 0) - (coalesce(s.sent, 0) - coalesce(m.read_own, 0))'
export const READ_STATE_JOINS = `LEFT JOIN read_markers m ON m.user_id = @user AND m.room_id = r.id
    LEFT JOIN sent_counts s ON s.user_id = @user AND s.room_id = r.id`

interface Marker { last_read_id: number, read_count: number, read_own: number }

/**
 * Each user's last-read message per room, for unread badges on every device. The listing reads
 * counters only (migration 3), never message rows: O(rooms), however much is unread.
 */
export function createReadsRepo (db: Db) {
  const roomState = db.prepare<[number], { count: number, last: number }>(`SELECT message_count AS count,
    coalesce((SELECT max(id) FROM messages WHERE room_id = rooms.id), 0) AS last FROM rooms WHERE id = ?`)
  const markerOf = db.prepare<[number, number], Marker>('SELECT last_read_id, read_count, read_own FROM read_markers WHERE user_id = ? AND room_id = ?')
  const sentOf = db.prepare<[number, number], number>('SELECT sent FROM sent_counts WHERE user_id = ? AND room_id = ?').pluck()
  // Messages, and the user's own, in (from, to]: a range of the (room_id, id) index.
  const inRange = db.prepare<{ room: number, user: number, from: number, to: number }, { n: number, own: number }>(`
    SELECT count(*) AS n, coalesce(sum(user_id = @user), 0) AS own FROM messages WHERE room_id = @room AND id > @from AND id <= @to`)
  // read_at: when the marker last moved, for read receipts.
  const save = db.prepare<{ user: number, room: number, id: number, count: number, own: number, at: string }>(`
    INSERT INTO read_markers (user_id, room_id, last_read_id, read_count, read_own, read_at) VALUES (@user, @room, @id, @count, @own, @at)
    ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_id = excluded.last_read_id, read_count = excluded.read_count, read_own = excluded.read_own, read_at = excluded.read_at`)
  const states = db.prepare<{ user: number }, { room_id: number, last_read_id: number | null, unread: number }>(`
    SELECT r.id AS room_id, m.last_read_id, ${UNREAD_SQL} AS unread FROM rooms r ${READ_STATE_JOINS}`)

  // Markers only move forward (a late frame from an old tab cannot mark messages unread again),
  // and never past the room's newest message (so future messages cannot be marked read).
  const mark = db.transaction((userId: number, roomId: number, messageId: number): void => {
    const room = roomState.get(roomId)
    if (room === undefined) return
    const target = Math.min(messageId, room.last)
    const marker = markerOf.get(userId, roomId)
    if (marker !== undefined && target <= marker.last_read_id) return
    const sent = sentOf.get(userId, roomId) ?? 0
    let count = room.count
    let own = sent
    if (target < room.last) {
      // Count the shorter stretch: from the old marker up, or from the new one to the newest.
      // Markers only move forward, so all the counting up for one user and room stays O(room).
      const from = marker?.last_read_id ?? 0
      if (target - from <= room.last - target) {
        const range = inRange.get({ room: roomId, user: userId, from, to: target })!
        count = (marker?.read_count ?? 0) + range.n
        own = (marker?.read_own ?? 0) + range.own
      } else {
        const range = inRange.get({ room: roomId, user: userId, from: target, to: room.last })!
        count -= range.n
        own -= range.own
      }
    }
    save.run({ user: userId, room: roomId, id: target, count, own, at: new Date().toISOString() })
  })

  return {
    markRead (userId: number, roomId: number, messageId: number): void {
      mark.immediate(userId, roomId, messageId)
    },
    forUser (userId: number): Map<number, ReadState> {
      const result = new Map<number, ReadState>()
      for (const row of states.all({ user: userId })) {
        result.set(row.room_id, { roomId: row.room_id, unreadCount: Math.min(row.unread, UNREAD_CAP), lastReadId: row.last_read_id })
      }
      return result
    }
  }
}
