import { roomNameKey } from '../text/names.js'
import type { Db } from './database.js'
import { READ_STATE_JOINS, UNREAD_CAP, UNREAD_SQL } from './reads.js'
import type { Room, RoomForUser } from './types.js'

interface RoomRow {
  id: number
  name: string
  topic: string
  created_by: number | null
  creator: string | null
  created_at: string
  last_seq: number
}

const toRoom = (row: RoomRow): Room => ({
  id: row.id,
  name: row.name,
  topic: row.topic,
  createdBy: row.created_by === null ? null : { id: row.created_by, username: row.creator ?? '' },
  createdAt: row.created_at,
  lastSeq: row.last_seq
})

const SELECT = `SELECT r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq
  FROM rooms r LEFT JOIN users u ON u.id = r.created_by`

export function createRoomsRepo (db: Db) {
  const list = db.prepare<[], RoomRow>(`${SELECT} ORDER BY r.name_key, r.id`)
  // One pass, primary-key lookups only: the room list costs O(rooms) however much is unread.
  const listFor = db.prepare<{ user: number }, RoomRow & { last_read_id: number | null, unread: number }>(`
    SELECT r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq, m.last_read_id, ${UNREAD_SQL} AS unread
    FROM rooms r LEFT JOIN users u ON u.id = r.created_by ${READ_STATE_JOINS}
    ORDER BY r.name_key, r.id`)
  const byId = db.prepare<[number], RoomRow>(`${SELECT} WHERE r.id = ?`)
  const exists = db.prepare<[number], number>('SELECT 1 FROM rooms WHERE id = ?').pluck()
  const insert = db.prepare<[string, string, string, number, string], { id: number }>(
    'INSERT INTO rooms (name, name_key, topic, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id')
  // In a transaction of its own: alone, a RETURNING statement commits when it is reset, and a
  // failed commit there (a full disk) goes unreported: the new room would be lost, silently.
  const insertCommitted = db.transaction((name: string, topic: string, createdBy: number) =>
    insert.get(name, roomNameKey(name), topic, createdBy, new Date().toISOString()))

  return {
    list: (): Room[] => list.all().map(toRoom),
    /** Every room, by name, with this user's unread count (capped at UNREAD_CAP) and last-read message. */
    listFor: (userId: number): RoomForUser[] => listFor.all({ user: userId }).map((row) => {
      const room = toRoom(row) as RoomForUser
      room.unreadCount = Math.min(row.unread, UNREAD_CAP)
      room.lastReadId = row.last_read_id
      return room
    }),
    get (id: number): Room | null {
      const row = byId.get(id)
      return row === undefined ? null : toRoom(row)
    },
    exists: (id: number): boolean => exists.get(id) !== undefined,
    /** The new room, or null when the name is taken (without regard to case). */
    create (name: string, topic: string, createdBy: number): Room | null {
      const row = insertCommitted(name, topic, createdBy)
      return row === undefined ? null : this.get(row.id)
    }
  }
}
