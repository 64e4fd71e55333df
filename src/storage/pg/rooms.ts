// Rooms and read markers on PostgreSQL. Unread counts come from counters (rooms.message_count,
// read_markers.read_count/read_own, sent_counts), as on SQLite: the room list costs O(rooms).
import { roomNameKey } from '../../text/names.js'
import { UNREAD_CAP } from '../reads.js'
import type { ReadsStore, RoomsStore } from '../store.js'
import type { ReadState, Room, RoomForUser } from '../types.js'
import { iso, type Sql } from './connect.js'

interface RoomRow {
  id: number
  name: string
  topic: string
  created_by: number | null
  creator: string | null
  created_at: Date
  last_seq: number
}

const toRoom = (row: RoomRow): Room => ({
  id: row.id,
  name: row.name,
  topic: row.topic,
  createdBy: row.created_by === null ? null : { id: row.created_by, username: row.creator ?? '' },
  createdAt: iso(row.created_at),
  lastSeq: row.last_seq
})

export function createPgRooms (sql: Sql): RoomsStore {
  const select = sql`SELECT r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq
    FROM rooms r LEFT JOIN users u ON u.id = r.created_by`
  const get = async (id: number): Promise<Room | null> => {
    const [row] = await sql<RoomRow[]>`${select} WHERE r.id = ${id}`
    return row === undefined ? null : toRoom(row)
  }
  return {
    list: async () => (await sql<RoomRow[]>`${select} ORDER BY r.name_key, r.id`).map(toRoom),
    async listFor (userId: number): Promise<RoomForUser[]> {
      const rows = await sql<Array<RoomRow & { last_read_id: number | null, unread: number }>>`
        SELECT r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq, m.last_read_id,
          r.message_count - coalesce(m.read_count, 0) - (coalesce(s.sent, 0) - coalesce(m.read_own, 0)) AS unread
        FROM rooms r LEFT JOIN users u ON u.id = r.created_by
          LEFT JOIN read_markers m ON m.user_id = ${userId} AND m.room_id = r.id
          LEFT JOIN sent_counts s ON s.user_id = ${userId} AND s.room_id = r.id
        ORDER BY r.name_key, r.id`
      return rows.map((row) => ({ ...toRoom(row), unreadCount: Math.min(row.unread, UNREAD_CAP), lastReadId: row.last_read_id }))
    },
    get,
    exists: async (id: number) => (await sql`SELECT 1 FROM rooms WHERE id = ${id}`).length > 0,
    async create (name: string, topic: string, createdBy: number): Promise<Room | null> {
      const [row] = await sql<Array<{ id: number }>>`INSERT INTO rooms (name, name_key, topic, created_by, created_at)
        VALUES (${name}, ${roomNameKey(name)}, ${topic}, ${createdBy}, ${new Date().toISOString()}) ON CONFLICT DO NOTHING RETURNING id`
      return row === undefined ? null : await get(row.id)
    }
  }
}

interface Marker { last_read_id: number, read_count: number, read_own: number }

export function createPgReads (sql: Sql): ReadsStore {
  return {
    // As on SQLite: markers only move forward and stop at the room's newest message; the shorter
    // stretch is counted. read_count is absolute (messages with id <= the marker), so a marker
    // moved meanwhile by another node changes nothing: the upsert only ever moves it forward.
    async markRead (userId: number, roomId: number, messageId: number): Promise<void> {
      await sql.begin(async (tx) => {
        const [room] = await tx<Array<{ count: number, last: number }>>`SELECT message_count AS count,
          coalesce((SELECT max(id) FROM messages WHERE room_id = ${roomId}), 0)::bigint AS last FROM rooms WHERE id = ${roomId}`
        if (room === undefined) return
        const target = Math.min(messageId, room.last)
        const [marker] = await tx<Marker[]>`SELECT last_read_id, read_count, read_own FROM read_markers WHERE user_id = ${userId} AND room_id = ${roomId}`
        if (marker !== undefined && target <= marker.last_read_id) return
        const [sent] = await tx<Array<{ sent: number }>>`SELECT sent FROM sent_counts WHERE user_id = ${userId} AND room_id = ${roomId}`
        let count = room.count
        let own = sent?.sent ?? 0
        if (target < room.last) {
          const inRange = async (from: number, to: number) => (await tx<Array<{ n: number, own: number }>>`
            SELECT count(*) AS n, count(*) FILTER (WHERE user_id = ${userId}) AS own
            FROM messages WHERE room_id = ${roomId} AND id > ${from} AND id <= ${to}`)[0]!
          const from = marker?.last_read_id ?? 0
          if (target - from <= room.last - target) {
            const range = await inRange(from, target)
            count = (marker?.read_count ?? 0) + range.n
            own = (marker?.read_own ?? 0) + range.own
          } else {
            const range = await inRange(target, room.last)
            count -= range.n
            own -= range.own
          }
        }
        await tx`INSERT INTO read_markers (user_id, room_id, last_read_id, read_count, read_own, read_at)
          VALUES (${userId}, ${roomId}, ${target}, ${count}, ${own}, ${new Date()})
          ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_id = excluded.last_read_id, read_count = excluded.read_count, read_own = excluded.read_own, read_at = excluded.read_at
          WHERE read_markers.last_read_id < excluded.last_read_id`
      })
    },
    async forUser (userId: number): Promise<Map<number, ReadState>> {
      const rows = await sql<Array<{ room_id: number, last_read_id: number | null, unread: number }>>`
        SELECT r.id AS room_id, m.last_read_id,
          r.message_count - coalesce(m.read_count, 0) - (coalesce(s.sent, 0) - coalesce(m.read_own, 0)) AS unread
        FROM rooms r
          LEFT JOIN read_markers m ON m.user_id = ${userId} AND m.room_id = r.id
          LEFT JOIN sent_counts s ON s.user_id = ${userId} AND s.room_id = r.id`
      const result = new Map<number, ReadState>()
      for (const row of rows) result.set(row.room_id, { roomId: row.room_id, unreadCount: Math.min(row.unread, UNREAD_CAP), lastReadId: row.last_read_id })
      return result
    }
  }
}
