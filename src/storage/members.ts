// Room members with their roles, and bans, on SQLite. Every change that the audit log records is
// written with its entry in one transaction.
import type { Role } from '../conversations/policy.js'
import { insertAudit } from './audit.js'
import type { Db } from './database.js'
import type { AuditInput, Ban, Member, StoredStanding } from './types.js'

export interface MemberRow { user_id: number, username: string, role: Role, joined_at: string | Date }
export const toMember = (row: MemberRow): Member => ({
  user: { id: row.user_id, username: row.username },
  role: row.role,
  joinedAt: typeof row.joined_at === 'string' ? row.joined_at : row.joined_at.toISOString()
})

export interface BanRow { user_id: number, username: string, by_id: number, by_name: string, reason: string | null, at: string | Date }
export const toBan = (row: BanRow): Ban => ({
  user: { id: row.user_id, username: row.username },
  by: { id: row.by_id, username: row.by_name },
  reason: row.reason,
  at: typeof row.at === 'string' ? row.at : row.at.toISOString()
})

const MEMBER_SELECT = 'SELECT m.user_id, u.username, m.role, m.joined_at FROM room_members m JOIN users u ON u.id = m.user_id'
/** Owners first, then by rank, then by name. */
const MEMBER_ORDER = "ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'moderator' THEN 2 ELSE 3 END, lower(u.username), m.user_id"

export function createMembersRepo (db: Db) {
  const standing = db.prepare<[number, number, number, number], { role: Role | null, banned: number }>(`SELECT
    (SELECT role FROM room_members WHERE room_id = ? AND user_id = ?) AS role,
    EXISTS (SELECT 1 FROM room_bans WHERE room_id = ? AND user_id = ?) AS banned`)
  const one = db.prepare<[number, number], MemberRow>(`${MEMBER_SELECT} WHERE m.room_id = ? AND m.user_id = ?`)
  const all = db.prepare<[number], MemberRow>(`${MEMBER_SELECT} WHERE m.room_id = ? ${MEMBER_ORDER}`)
  const ranked = db.prepare<[number], MemberRow>(`${MEMBER_SELECT} WHERE m.room_id = ? AND m.role <> 'member' ${MEMBER_ORDER}`)
  const ids = db.prepare<[number], number>('SELECT user_id FROM room_members WHERE room_id = ? ORDER BY user_id').pluck()
  const owners = db.prepare<[number], number>("SELECT count(*) FROM room_members WHERE room_id = ? AND role = 'owner'").pluck()
  const insert = db.prepare<[number, number, string, string]>('INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
  const upsert = db.prepare<[number, number, string, string]>(`INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role`)
  const del = db.prepare<[number, number]>('DELETE FROM room_members WHERE room_id = ? AND user_id = ?')

  const add = db.transaction((roomId: number, userId: number, role: Role, audit: AuditInput): boolean => {
    if (insert.run(roomId, userId, role, new Date().toISOString()).changes === 0) return false
    insertAudit(db, audit)
    return true
  })
  const setRole = db.transaction((roomId: number, userId: number, role: Role, audit: AuditInput): void => {
    upsert.run(roomId, userId, role, new Date().toISOString())
    insertAudit(db, audit)
  })
  const transfer = db.transaction((roomId: number, from: number, to: number, audit: AuditInput): void => {
    const at = new Date().toISOString()
    upsert.run(roomId, to, 'owner', at)
    upsert.run(roomId, from, 'admin', at)
    insertAudit(db, audit)
  })
  const remove = db.transaction((roomId: number, userId: number, audit: AuditInput | null): boolean => {
    if (del.run(roomId, userId).changes === 0) return false
    if (audit !== null) insertAudit(db, audit)
    return true
  })

  return {
    standing (roomId: number, userId: number): StoredStanding {
      const row = standing.get(roomId, userId, roomId, userId)!
      return { role: row.role, banned: row.banned === 1 }
    },
    get (roomId: number, userId: number): Member | null {
      const row = one.get(roomId, userId)
      return row === undefined ? null : toMember(row)
    },
    /** Every member, or (`rankedOnly`) those holding a role above member. */
    list: (roomId: number, rankedOnly: boolean): Member[] => (rankedOnly ? ranked : all).all(roomId).map(toMember),
    userIds: (roomId: number): number[] => ids.all(roomId),
    owners: (roomId: number): number => owners.get(roomId) ?? 0,
    /** The new member, or null when they are one already. */
    add (roomId: number, userId: number, role: Role, audit: AuditInput): Member | null {
      return add.immediate(roomId, userId, role, audit) ? this.get(roomId, userId) : null
    },
    /** Gives the role, making them a member first when they are not (public rooms). */
    setRole (roomId: number, userId: number, role: Role, audit: AuditInput): Member {
      setRole.immediate(roomId, userId, role, audit)
      return this.get(roomId, userId)!
    },
    /** Hands ownership over: `to` becomes owner, `from` admin. */
    transfer (roomId: number, from: number, to: number, audit: AuditInput): void {
      transfer.immediate(roomId, from, to, audit)
    },
    /** False when they were not a member. The audit entry is written only when someone was removed. */
    remove: (roomId: number, userId: number, audit: AuditInput | null): boolean => remove.immediate(roomId, userId, audit)
  }
}

export function createBansRepo (db: Db) {
  const insert = db.prepare<[number, number, number, string | null, string]>(`INSERT INTO room_bans (room_id, user_id, by_id, reason, at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (room_id, user_id) DO UPDATE SET by_id = excluded.by_id, reason = excluded.reason, at = excluded.at`)
  const delMember = db.prepare<[number, number]>('DELETE FROM room_members WHERE room_id = ? AND user_id = ?')
  const del = db.prepare<[number, number]>('DELETE FROM room_bans WHERE room_id = ? AND user_id = ?')
  const all = db.prepare<[number], BanRow>(`SELECT b.user_id, u.username, b.by_id, bu.username AS by_name, b.reason, b.at
    FROM room_bans b JOIN users u ON u.id = b.user_id JOIN users bu ON bu.id = b.by_id WHERE b.room_id = ? ORDER BY b.at DESC, b.user_id`)
  const ban = db.transaction((roomId: number, userId: number, by: number, reason: string | null, audit: AuditInput): void => {
    insert.run(roomId, userId, by, reason, new Date().toISOString())
    delMember.run(roomId, userId)
    insertAudit(db, audit)
  })
  const unban = db.transaction((roomId: number, userId: number, audit: AuditInput): boolean => {
    if (del.run(roomId, userId).changes === 0) return false
    insertAudit(db, audit)
    return true
  })
  return {
    /** Bans (again: the newest reason stands) and removes the membership. */
    ban: (roomId: number, userId: number, by: number, reason: string | null, audit: AuditInput): void => ban.immediate(roomId, userId, by, reason, audit),
    /** False when they were not banned. */
    unban: (roomId: number, userId: number, audit: AuditInput): boolean => unban.immediate(roomId, userId, audit),
    list: (roomId: number): Ban[] => all.all(roomId).map(toBan)
  }
}
