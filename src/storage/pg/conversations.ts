// Room members, bans and the audit log on PostgreSQL: the same answers as members.ts and audit.ts
// on SQLite. Each change the audit log records is written with its entry in one transaction.
import type { Role } from '../../conversations/policy.js'
import { toAuditEntry, type AuditRow } from '../audit.js'
import { toBan, toMember, type BanRow, type MemberRow } from '../members.js'
import type { AuditStore, BansStore, MembersStore } from '../store.js'
import type { AuditInput, Member } from '../types.js'
import type { Sql } from './connect.js'
import type postgres from 'postgres'

type Tx = postgres.TransactionSql

export async function insertPgAudit (tx: Tx, entry: AuditInput): Promise<void> {
  await tx`INSERT INTO audit_log (room_id, action, actor_id, target_id, message_id, reason, at)
    VALUES (${entry.roomId}, ${entry.action}, ${entry.actorId}, ${entry.targetId ?? null}, ${entry.messageId ?? null}, ${entry.reason ?? null}, ${new Date().toISOString()})`
}

const ORDER = "ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'moderator' THEN 2 ELSE 3 END, lower(u.username), m.user_id"

export function createPgMembers (sql: Sql): MembersStore {
  const get = async (roomId: number, userId: number): Promise<Member | null> => {
    const [row] = await sql<MemberRow[]>`SELECT m.user_id, u.username, m.role, m.joined_at FROM room_members m JOIN users u ON u.id = m.user_id
      WHERE m.room_id = ${roomId} AND m.user_id = ${userId}`
    return row === undefined ? null : toMember(row)
  }
  const upsert = async (tx: Tx, roomId: number, userId: number, role: Role): Promise<void> => {
    await tx`INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (${roomId}, ${userId}, ${role}, ${new Date().toISOString()})
      ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role`
  }
  return {
    async standing (roomId: number, userId: number) {
      const [row] = await sql<Array<{ role: Role | null, banned: boolean }>>`SELECT
        (SELECT role FROM room_members WHERE room_id = ${roomId} AND user_id = ${userId}) AS role,
        EXISTS (SELECT 1 FROM room_bans WHERE room_id = ${roomId} AND user_id = ${userId}) AS banned`
      return { role: row?.role ?? null, banned: row?.banned === true }
    },
    get,
    async list (roomId: number, rankedOnly: boolean): Promise<Member[]> {
      const rows = await sql<MemberRow[]>`SELECT m.user_id, u.username, m.role, m.joined_at FROM room_members m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ${roomId} ${rankedOnly ? sql`AND m.role <> 'member'` : sql``} ${sql.unsafe(ORDER)}`
      return rows.map(toMember)
    },
    async userIds (roomId: number): Promise<number[]> {
      return (await sql<Array<{ user_id: number }>>`SELECT user_id FROM room_members WHERE room_id = ${roomId} ORDER BY user_id`).map((r) => r.user_id)
    },
    async owners (roomId: number): Promise<number> {
      const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM room_members WHERE room_id = ${roomId} AND role = 'owner'`
      return row?.n ?? 0
    },
    async add (roomId: number, userId: number, role: Role, audit: AuditInput): Promise<Member | null> {
      const added = await sql.begin(async (tx) => {
        const rows = await tx`INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (${roomId}, ${userId}, ${role}, ${new Date().toISOString()})
          ON CONFLICT DO NOTHING RETURNING user_id`
        if (rows.length === 0) return false
        await insertPgAudit(tx, audit)
        return true
      })
      return added ? await get(roomId, userId) : null
    },
    async setRole (roomId: number, userId: number, role: Role, audit: AuditInput): Promise<Member> {
      await sql.begin(async (tx) => {
        await upsert(tx, roomId, userId, role)
        await insertPgAudit(tx, audit)
      })
      return (await get(roomId, userId))!
    },
    async transfer (roomId: number, from: number, to: number, audit: AuditInput): Promise<void> {
      await sql.begin(async (tx) => {
        await upsert(tx, roomId, to, 'owner')
        await upsert(tx, roomId, from, 'admin')
        await insertPgAudit(tx, audit)
      })
    },
    async remove (roomId: number, userId: number, audit: AuditInput | null): Promise<boolean> {
      return await sql.begin(async (tx) => {
        const rows = await tx`DELETE FROM room_members WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING user_id`
        if (rows.length === 0) return false
        if (audit !== null) await insertPgAudit(tx, audit)
        return true
      })
    }
  }
}

export function createPgBans (sql: Sql): BansStore {
  return {
    async ban (roomId: number, userId: number, by: number, reason: string | null, audit: AuditInput): Promise<void> {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO room_bans (room_id, user_id, by_id, reason, at) VALUES (${roomId}, ${userId}, ${by}, ${reason}, ${new Date().toISOString()})
          ON CONFLICT (room_id, user_id) DO UPDATE SET by_id = excluded.by_id, reason = excluded.reason, at = excluded.at`
        await tx`DELETE FROM room_members WHERE room_id = ${roomId} AND user_id = ${userId}`
        await insertPgAudit(tx, audit)
      })
    },
    async unban (roomId: number, userId: number, audit: AuditInput): Promise<boolean> {
      return await sql.begin(async (tx) => {
        const rows = await tx`DELETE FROM room_bans WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING user_id`
        if (rows.length === 0) return false
        await insertPgAudit(tx, audit)
        return true
      })
    },
    async list (roomId: number) {
      const rows = await sql<BanRow[]>`SELECT b.user_id, u.username, b.by_id, bu.username AS by_name, b.reason, b.at
        FROM room_bans b JOIN users u ON u.id = b.user_id JOIN users bu ON bu.id = b.by_id WHERE b.room_id = ${roomId} ORDER BY b.at DESC, b.user_id`
      return rows.map(toBan)
    }
  }
}

export function createPgAudit (sql: Sql): AuditStore {
  const SELECT = sql`SELECT a.id, a.action, a.actor_id, ua.username AS actor, a.target_id, ut.username AS target, a.message_id, a.reason, a.at
    FROM audit_log a JOIN users ua ON ua.id = a.actor_id LEFT JOIN users ut ON ut.id = a.target_id`
  return {
    async add (entry: AuditInput): Promise<void> {
      await sql.begin(async (tx) => insertPgAudit(tx, entry))
    },
    async list (roomId: number, query: { before?: number, limit: number }) {
      const rows = await sql<AuditRow[]>`${SELECT} WHERE a.room_id = ${roomId} ${query.before === undefined ? sql`` : sql`AND a.id < ${query.before}`}
        ORDER BY a.id DESC LIMIT ${query.limit}`
      return rows.map(toAuditEntry)
    }
  }
}
