// Rooms and read markers on PostgreSQL. Unread counts come from counters (rooms.message_count,
// read_markers.read_count/read_own, sent_counts), as on SQLite: the room list costs O(rooms).
import { effectiveRole, type Role } from '../../conversations/policy.js'
import { roomNameKey } from '../../text/names.js'
import { UNREAD_CAP } from '../reads.js'
import { dmKey, dmNameKey, roomForUser, toRoom, type RoomRow } from '../rooms.js'
import type { ReadsStore, RoomsStore } from '../store.js'
import type { AuditInput, ListedRoom, ReadState, Room, RoomForUser, RoomPatch, StoredStanding } from '../types.js'
import { insertPgAudit } from './conversations.js'
import { iso, type Sql } from './connect.js'

const toPgRoom = (row: Omit<RoomRow, 'created_at'> & { created_at: Date }): Room => toRoom({ ...row, created_at: iso(row.created_at) })

// A DM's participants, by name: one correlated lookup per DM row.
const MEMBERS = `CASE WHEN r.kind = 'dm' THEN (SELECT json_agg(json_build_object('id', du.id, 'username', du.username) ORDER BY lower(du.username))
    FROM room_members dm JOIN users du ON du.id = dm.user_id WHERE dm.room_id = r.id) END AS members`
const COLUMNS = `r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq, r.kind, r.archived, ${MEMBERS}`

type PgRoomRow = Omit<RoomRow, 'created_at'> & { created_at: Date }

export function createPgRooms (sql: Sql): RoomsStore {
  const select = sql.unsafe(`SELECT ${COLUMNS} FROM rooms r LEFT JOIN users u ON u.id = r.created_by`)
  const get = async (id: number): Promise<Room | null> => {
    const [row] = await sql<PgRoomRow[]>`${select} WHERE r.id = ${id}`
    return row === undefined ? null : toPgRoom(row)
  }
  // As on SQLite (rooms.ts READABLE_SQL): public rooms the user is not banned from, their
  // memberships, and for server administrators every private room.
  const readable = (userId: number, isAdmin: boolean) => sql`
    LEFT JOIN room_members me ON me.room_id = r.id AND me.user_id = ${userId}
    LEFT JOIN room_bans b ON b.room_id = r.id AND b.user_id = ${userId}
    WHERE (me.user_id IS NOT NULL OR (r.kind = 'public' AND (${isAdmin} OR b.user_id IS NULL)) OR (${isAdmin} AND r.kind = 'private'))`
  return {
    list: async () => (await sql<PgRoomRow[]>`${select} ORDER BY r.name_key, r.id`).map(toPgRoom),
    async listFor (userId: number, isAdmin = false): Promise<RoomForUser[]> {
      return (await this.listing(userId, isAdmin)).map(roomForUser)
    },
    async listing (userId: number, isAdmin = false): Promise<ListedRoom[]> {
      const rows = await sql<Array<PgRoomRow & { last_read_id: number | null, unread: number, role: Role | null }>>`
        SELECT ${sql.unsafe(COLUMNS)}, me.role, m.last_read_id,
          r.message_count - coalesce(m.read_count, 0) - (coalesce(s.sent, 0) - coalesce(m.read_own, 0)) AS unread
        FROM rooms r LEFT JOIN users u ON u.id = r.created_by
          LEFT JOIN read_markers m ON m.user_id = ${userId} AND m.room_id = r.id
          LEFT JOIN sent_counts s ON s.user_id = ${userId} AND s.room_id = r.id
          ${readable(userId, isAdmin)}
        ORDER BY r.name_key, r.id`
      return rows.map((row) => {
        const room = toPgRoom(row)
        return { room, lastSeq: room.lastSeq, unreadCount: Math.min(row.unread, UNREAD_CAP), lastReadId: row.last_read_id, myRole: effectiveRole(room.kind, { role: row.role, banned: false, isAdmin }) }
      })
    },
    async readableIds (userId: number, isAdmin = false): Promise<number[]> {
      return (await sql<Array<{ id: number }>>`SELECT r.id FROM rooms r ${readable(userId, isAdmin)} ORDER BY r.id`).map((r) => r.id)
    },
    get,
    async access (id: number, userId: number): Promise<{ room: Room, standing: StoredStanding } | null> {
      const [row] = await sql<Array<PgRoomRow & { my_role: Role | null, banned: boolean }>>`SELECT ${sql.unsafe(COLUMNS)}, me.role AS my_role,
          EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = ${userId}) AS banned
        FROM rooms r LEFT JOIN users u ON u.id = r.created_by LEFT JOIN room_members me ON me.room_id = r.id AND me.user_id = ${userId}
        WHERE r.id = ${id}`
      return row === undefined ? null : { room: toPgRoom(row), standing: { role: row.my_role, banned: row.banned } }
    },
    exists: async (id: number) => (await sql`SELECT 1 FROM rooms WHERE id = ${id}`).length > 0,
    async create (name: string, topic: string, createdBy: number, kind: 'public' | 'private' = 'public'): Promise<Room | null> {
      const id = await sql.begin(async (tx) => {
        const at = new Date().toISOString()
        const [row] = await tx<Array<{ id: number }>>`INSERT INTO rooms (name, name_key, topic, created_by, created_at, kind)
          VALUES (${name}, ${roomNameKey(name)}, ${topic}, ${createdBy}, ${at}, ${kind}) ON CONFLICT DO NOTHING RETURNING id`
        if (row === undefined) return null
        await tx`INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (${row.id}, ${createdBy}, 'owner', ${at})`
        return row.id
      })
      return id === null ? null : await get(id)
    },
    async dm (createdBy: number, userIds: readonly number[]): Promise<{ room: Room, created: boolean }> {
      const key = dmKey(userIds)
      const made = await sql.begin(async (tx) => {
        const at = new Date().toISOString()
        // Two callers at once: one inserts, the other finds nothing inserted and reads the winner's.
        const [row] = await tx<Array<{ id: number }>>`INSERT INTO rooms (name, name_key, topic, created_by, created_at, kind, dm_key)
          VALUES ('', ${dmNameKey(key)}, '', ${createdBy}, ${at}, 'dm', ${key}) ON CONFLICT DO NOTHING RETURNING id`
        if (row === undefined) return null
        const members = [...new Set(userIds)].map((user_id) => ({ room_id: row.id, user_id, role: 'member', joined_at: at }))
        await tx`INSERT INTO room_members ${tx(members)}`
        return row.id
      })
      const id = made ?? (await sql<Array<{ id: number }>>`SELECT id FROM rooms WHERE dm_key = ${key}`)[0]!.id
      return { room: (await get(id))!, created: made !== null }
    },
    async update (id: number, patch: RoomPatch, audit: AuditInput): Promise<Room | null> {
      const ok = await sql.begin(async (tx) => {
        if (patch.name !== undefined) {
          const key = roomNameKey(patch.name)
          const [taken] = await tx`SELECT 1 FROM rooms WHERE name_key = ${key} AND id <> ${id}`
          if (taken !== undefined) return false
          await tx`UPDATE rooms SET name = ${patch.name}, name_key = ${key} WHERE id = ${id}`
        }
        if (patch.topic !== undefined) await tx`UPDATE rooms SET topic = ${patch.topic} WHERE id = ${id}`
        if (patch.archived !== undefined) await tx`UPDATE rooms SET archived = ${patch.archived} WHERE id = ${id}`
        await insertPgAudit(tx, audit)
        return true
      }).catch((error: unknown) => {
        if ((error as { code?: string }).code === '23505') return false // taken meanwhile
        throw error
      })
      return ok ? await get(id) : null
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
