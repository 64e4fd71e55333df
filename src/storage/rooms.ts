import { effectiveRole, type Role, type RoomKind } from '../conversations/policy.js'
import { roomNameKey } from '../text/names.js'
import { insertAudit } from './audit.js'
import type { Db } from './database.js'
import { READ_STATE_JOINS, UNREAD_CAP, UNREAD_SQL } from './reads.js'
import type { AuditInput, Author, ListedRoom, Room, RoomForUser, RoomPatch, StoredStanding } from './types.js'

export interface RoomRow {
  id: number
  name: string
  topic: string
  created_by: number | null
  creator: string | null
  created_at: string
  last_seq: number
  kind: RoomKind
  archived: number | boolean
  /** JSON text on SQLite, parsed already on PostgreSQL; DMs only. */
  members: string | Author[] | null
}

export const toRoom = (row: RoomRow): Room => {
  const room: Room = {
    id: row.id,
    name: row.name,
    topic: row.topic,
    createdBy: row.created_by === null ? null : { id: row.created_by, username: row.creator ?? '' },
    createdAt: row.created_at,
    lastSeq: row.last_seq,
    kind: row.kind,
    archived: row.archived === true || row.archived === 1
  }
  if (row.kind === 'dm') room.members = typeof row.members === 'string' ? JSON.parse(row.members) as Author[] : row.members ?? []
  return room
}

/** A listed room as one object, in the order its fields have always had. */
export function roomForUser ({ room, lastSeq, unreadCount, lastReadId, myRole }: ListedRoom): RoomForUser {
  const entry: RoomForUser = {
    id: room.id, name: room.name, topic: room.topic, createdBy: room.createdBy, createdAt: room.createdAt, lastSeq, kind: room.kind, archived: room.archived,
    unreadCount, lastReadId, myRole
  }
  if (room.members !== undefined) entry.members = room.members
  return entry
}

/** A DM's identity: its participants' ids, sorted ("3,8,12"). */
export const dmKey = (userIds: readonly number[]): string => [...new Set(userIds)].sort((a, b) => a - b).join(',')
/** DMs have no name of their own; their name key must still be unique and unlike any typed name (no control characters there). */
export const dmNameKey = (key: string): string => `\u0001dm:${key}`

// A DM's participants, by name, as a JSON array: one correlated lookup per DM row.
const MEMBERS_SQL = `CASE WHEN r.kind = 'dm' THEN (SELECT json_group_array(json_object('id', d.id, 'username', d.username))
    FROM (SELECT du.id, du.username FROM room_members dm JOIN users du ON du.id = dm.user_id WHERE dm.room_id = r.id ORDER BY du.username COLLATE NOCASE) d) END AS members`
const COLUMNS = `r.id, r.name, r.topic, r.created_by, u.username AS creator, r.created_at, r.last_seq, r.kind, r.archived, ${MEMBERS_SQL}`
const SELECT = `SELECT ${COLUMNS} FROM rooms r LEFT JOIN users u ON u.id = r.created_by`
/**
 * The rooms a user may read: public ones they are not banned from, and those they are a member
 * of; server administrators also every private room (never a DM they are not in).
 */
export const READABLE_SQL = `(me.user_id IS NOT NULL OR (r.kind = 'public' AND (@admin = 1 OR b.user_id IS NULL)) OR (@admin = 1 AND r.kind = 'private'))`
const ACCESS_JOINS = `LEFT JOIN room_members me ON me.room_id = r.id AND me.user_id = @user
    LEFT JOIN room_bans b ON b.room_id = r.id AND b.user_id = @user`

export function createRoomsRepo (db: Db) {
  const list = db.prepare<[], RoomRow>(`${SELECT} ORDER BY r.name_key, r.id`)
  // The room list, in two parts. What rarely changes (name, topic, kind, creator, a DM's people)
  // is kept in memory, in list order, and read again only when the rooms' version (migration 10:
  // triggers bump it with any change to those columns) moved. Per call, one pass reads only what
  // moves: the caller's access, role, read marker and counters, and each room's seq, as one JSON
  // array of arrays (handing 2,000 rows × 5 values to JavaScript one by one cost twice its parse).
  const version = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'rooms_version'").pluck()
  const everyRoom = db.prepare<[], RoomRow>(`${SELECT} ORDER BY r.name_key, r.id`)
  const moving = db.prepare<{ user: number, admin: number }, string>(`
    SELECT json_group_array(json_array(r.id, r.last_seq, me.role, m.last_read_id, ${UNREAD_SQL}))
    FROM rooms r ${ACCESS_JOINS} ${READ_STATE_JOINS}
    WHERE ${READABLE_SQL}`).pluck()
  let cached: { version: string | undefined, rooms: Room[], position: Map<number, number> } | null = null
  const staticRooms = (): { rooms: Room[], position: Map<number, number> } => {
    const now = version.get()
    if (cached === null || cached.version !== now) {
      // Read in one transaction with the version, so a change committed in between is not missed.
      cached = db.transaction(() => {
        const rooms = everyRoom.all().map(toRoom)
        return { version: version.get(), rooms, position: new Map(rooms.map((room, i) => [room.id, i])) }
      })()
    }
    return cached
  }
  const readable = db.prepare<{ user: number, admin: number }, number>(`SELECT r.id FROM rooms r ${ACCESS_JOINS} WHERE ${READABLE_SQL} ORDER BY r.id`).pluck()
  const byId = db.prepare<[number], RoomRow>(`${SELECT} WHERE r.id = ?`)
  const withStanding = db.prepare<{ room: number, user: number }, RoomRow & { my_role: Role | null, banned: number }>(`SELECT ${COLUMNS}, me.role AS my_role,
    EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = r.id AND b.user_id = @user) AS banned
    FROM rooms r LEFT JOIN users u ON u.id = r.created_by LEFT JOIN room_members me ON me.room_id = r.id AND me.user_id = @user WHERE r.id = @room`)
  const exists = db.prepare<[number], number>('SELECT 1 FROM rooms WHERE id = ?').pluck()
  const insert = db.prepare<[string, string, string, number, string, string], { id: number }>(
    'INSERT INTO rooms (name, name_key, topic, created_by, created_at, kind) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id')
  const addMember = db.prepare<[number, number, string, string]>('INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
  // In a transaction of its own: alone, a RETURNING statement commits when it is reset, and a
  // failed commit there (a full disk) goes unreported: the new room would be lost, silently.
  // The creator of a private room (or any created room) is its owner from the first moment.
  const insertCommitted = db.transaction((name: string, topic: string, createdBy: number, kind: RoomKind) => {
    const at = new Date().toISOString()
    const row = insert.get(name, roomNameKey(name), topic, createdBy, at, kind)
    if (row !== undefined) addMember.run(row.id, createdBy, 'owner', at)
    return row
  })
  const dmByKey = db.prepare<[string], number>('SELECT id FROM rooms WHERE dm_key = ?').pluck()
  const insertDm = db.prepare<[string, number, string, string], { id: number }>(
    "INSERT INTO rooms (name, name_key, topic, created_by, created_at, kind, dm_key) VALUES ('', ?, '', ?, ?, 'dm', ?) ON CONFLICT DO NOTHING RETURNING id")
  const dm = db.transaction((createdBy: number, userIds: readonly number[]): { id: number, created: boolean } => {
    const key = dmKey(userIds)
    const found = dmByKey.get(key)
    if (found !== undefined) return { id: found, created: false }
    const at = new Date().toISOString()
    const { id } = insertDm.get(dmNameKey(key), createdBy, at, key)!
    for (const userId of new Set(userIds)) addMember.run(id, userId, 'member', at)
    return { id, created: true }
  })
  const setName = db.prepare<[string, string, number]>('UPDATE OR IGNORE rooms SET name = ?, name_key = ? WHERE id = ?')
  const setTopic = db.prepare<[string, number]>('UPDATE rooms SET topic = ? WHERE id = ?')
  const setArchived = db.prepare<[number, number]>('UPDATE rooms SET archived = ? WHERE id = ?')
  const update = db.transaction((id: number, patch: RoomPatch, audit: AuditInput): boolean => {
    if (patch.name !== undefined && setName.run(patch.name, roomNameKey(patch.name), id).changes === 0) {
      return false // taken by another room (its own key never conflicts with itself)
    }
    if (patch.topic !== undefined) setTopic.run(patch.topic, id)
    if (patch.archived !== undefined) setArchived.run(patch.archived ? 1 : 0, id)
    insertAudit(db, audit)
    return true
  })

  return {
    list: (): Room[] => list.all().map(toRoom),
    /** The rooms this user may read, by name, with their unread count (capped at UNREAD_CAP), last-read message and role. */
    listFor (userId: number, isAdmin = false): RoomForUser[] {
      return this.listing(userId, isAdmin).map(roomForUser)
    },
    listing (userId: number, isAdmin = false): ListedRoom[] {
      const { rooms, position } = staticRooms()
      // Each row lands at its room's place in name order (a room newer than the cache is left out
      // until the next call: its version bump arrives with its commit, so that call rebuilds).
      const slots: Array<ListedRoom | undefined> = new Array(rooms.length)
      const rows = JSON.parse(moving.get({ user: userId, admin: isAdmin ? 1 : 0 })!) as Array<[number, number, Role | null, number | null, number]>
      for (const [id, lastSeq, role, lastReadId, unread] of rows) {
        const at = position.get(id)
        if (at === undefined) continue
        const room = rooms[at]!
        slots[at] = { room, lastSeq, unreadCount: Math.min(unread, UNREAD_CAP), lastReadId, myRole: effectiveRole(room.kind, { role, banned: false, isAdmin }) }
      }
      return slots.filter((room): room is ListedRoom => room !== undefined)
    },
    readableIds: (userId: number, isAdmin = false): number[] => readable.all({ user: userId, admin: isAdmin ? 1 : 0 }),
    get (id: number): Room | null {
      const row = byId.get(id)
      return row === undefined ? null : toRoom(row)
    },
    access (id: number, userId: number): { room: Room, standing: StoredStanding } | null {
      const row = withStanding.get({ room: id, user: userId })
      return row === undefined ? null : { room: toRoom(row), standing: { role: row.my_role, banned: row.banned === 1 } }
    },
    exists: (id: number): boolean => exists.get(id) !== undefined,
    /** The new room (its creator its owner), or null when the name is taken (without regard to case). */
    create (name: string, topic: string, createdBy: number, kind: 'public' | 'private' = 'public'): Room | null {
      const row = insertCommitted(name, topic, createdBy, kind)
      return row === undefined ? null : this.get(row.id)
    },
    /** The DM of exactly these people (created when new). */
    dm (createdBy: number, userIds: readonly number[]): { room: Room, created: boolean } {
      const { id, created } = dm.immediate(createdBy, userIds)
      return { room: this.get(id)!, created }
    },
    /** The room after the change, or null when the new name is taken by another room. */
    update (id: number, patch: RoomPatch, audit: AuditInput): Room | null {
      if (!update.immediate(id, patch, audit)) return null
      return this.get(id)
    }
  }
}
