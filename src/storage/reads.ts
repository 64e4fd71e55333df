import type { Db } from './database.js'
import type { ReadState } from './types.js'

/** Badges count at most this many unread messages ("999+"), so a listing stays cheap in huge rooms. */
export const UNREAD_CAP = 1000

/** Each user's last-read message per room, for unread badges on every device. */
export function createReadsRepo (db: Db) {
  // Markers only move forward (a late frame from an old tab cannot mark messages unread again),
  // and never past the room's newest message (so future messages cannot be marked read).
  const mark = db.prepare<{ user: number, room: number, id: number }>(`INSERT INTO read_markers (user_id, room_id, last_read_id)
    SELECT @user, @room, min(@id, coalesce((SELECT max(id) FROM messages WHERE room_id = @room), 0))
    ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_id = max(last_read_id, excluded.last_read_id)`)
  const states = db.prepare<[number, number], { room_id: number, last_read_id: number | null, unread: number }>(`
    SELECT r.id AS room_id, m.last_read_id,
      (SELECT count(*) FROM (SELECT 1 FROM messages x
        WHERE x.room_id = r.id AND x.id > coalesce(m.last_read_id, 0) AND x.user_id != ? LIMIT ${UNREAD_CAP})) AS unread
    FROM rooms r LEFT JOIN read_markers m ON m.room_id = r.id AND m.user_id = ?`)

  return {
    markRead (userId: number, roomId: number, messageId: number): void {
      mark.run({ user: userId, room: roomId, id: messageId })
    },
    forUser (userId: number): Map<number, ReadState> {
      const result = new Map<number, ReadState>()
      for (const row of states.all(userId, userId)) {
        result.set(row.room_id, { roomId: row.room_id, unreadCount: row.unread, lastReadId: row.last_read_id })
      }
      return result
    }
  }
}
