import { roomNameKey } from '../text/names.js'
import type { Db } from './database.js'
import type { Room } from './types.js'

interface RoomRow {
  id: number
  name: string
  topic: string
  created_by: number | null
  creator: string | null
  created_at: string
}

const toRoom = (row: RoomRow): Room => ({
  id: row.id,
  name: row.name,
  topic: row.topic,
  createdBy: row.created_by === null ? null : { id: row.created_by, username: row.creator ?? '' },
  createdAt: row.created_at
})

const SELECT = `SELECT r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at
  FROM rooms r LEFT JOIN users u ON u.id = r.created_by`

export function createRoomsRepo (db: Db) {
  const list = db.prepare<[], RoomRow>(`${SELECT} ORDER BY r.name_key, r.id`)
  const byId = db.prepare<[number], RoomRow>(`${SELECT} WHERE r.id = ?`)
  const exists = db.prepare<[number], number>('SELECT 1 FROM rooms WHERE id = ?').pluck()
  const insert = db.prepare<[string, string, string, number, string], { id: number }>(
    'INSERT INTO rooms (name, name_key, topic, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id')

  return {
    list: (): Room[] => list.all().map(toRoom),
    get (id: number): Room | null {
      const row = byId.get(id)
      return row === undefined ? null : toRoom(row)
    },
    exists: (id: number): boolean => exists.get(id) !== undefined,
    /** The new room, or null when the name is taken (without regard to case). */
    create (name: string, topic: string, createdBy: number): Room | null {
      const row = insert.get(name, roomNameKey(name), topic, createdBy, new Date().toISOString())
      return row === undefined ? null : this.get(row.id)
    }
  }
}
