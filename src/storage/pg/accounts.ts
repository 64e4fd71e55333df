// Users, revoked tokens and uploads' rows on PostgreSQL: the same answers as the SQLite repos.
import type { FernetRing } from '../../crypto/fernet.js'
import { toMediaRecord, type MediaRecord, type MediaRow } from '../media.js'
import type { MediaStore, TokensStore, UsersStore } from '../store.js'
import type { UnreadableRows } from '../unreadable.js'
import type { Author, User } from '../types.js'
import { likePrefix } from '../users.js'
import { iso, type Queries, type Sql } from './connect.js'

interface UserRow { id: number, username: string, password_hash: string, created_at: Date, is_admin: boolean }

const toUser = (row: UserRow): User => ({ id: row.id, username: row.username, createdAt: iso(row.created_at), isAdmin: row.is_admin })

export function createPgUsers (sql: Sql): UsersStore {
  return {
    async create (username: string, passwordHash: string): Promise<User | null> {
      // The first account of a database is its administrator (API.md "Moderation").
      const [row] = await sql<UserRow[]>`INSERT INTO users (username, password_hash, created_at, is_admin)
        VALUES (${username}, ${passwordHash}, ${new Date().toISOString()}, NOT EXISTS (SELECT 1 FROM users)) ON CONFLICT DO NOTHING RETURNING *`
      return row === undefined ? null : toUser(row)
    },
    async findForLogin (username: string) {
      const [row] = await sql<UserRow[]>`SELECT * FROM users WHERE lower(username) = lower(${username})`
      return row === undefined ? null : { user: toUser(row), passwordHash: row.password_hash }
    },
    async findById (id: number): Promise<User | null> {
      const [row] = await sql<UserRow[]>`SELECT * FROM users WHERE id = ${id}`
      return row === undefined ? null : toUser(row)
    },
    async forToken (id: number, jti: string): Promise<User | null> {
      const [row] = await sql<UserRow[]>`SELECT * FROM users WHERE id = ${id} AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ${jti})`
      return row === undefined ? null : toUser(row)
    },
    async authors (ids: readonly number[]): Promise<Author[]> {
      if (ids.length === 0) return []
      return [...await sql<Author[]>`SELECT id, username FROM users WHERE id = ANY(${[...ids]}::int[])`]
    },
    async search (prefix: string, limit: number): Promise<Author[]> {
      return [...await sql<Author[]>`SELECT id, username FROM users WHERE lower(username) LIKE lower(${likePrefix(prefix)})
        ORDER BY lower(username) LIMIT ${limit}`]
    },
    async setAdmin (username: string, isAdmin: boolean): Promise<User | null> {
      const [row] = await sql<UserRow[]>`UPDATE users SET is_admin = ${isAdmin} WHERE lower(username) = lower(${username}) RETURNING *`
      return row === undefined ? null : toUser(row)
    }
  }
}

export function createPgTokens (sql: Sql): TokensStore {
  return {
    async revoke (jti: string, expiresAtSeconds: number): Promise<void> {
      await sql`INSERT INTO revoked_tokens (jti, expires_at) VALUES (${jti}, ${expiresAtSeconds}) ON CONFLICT DO NOTHING`
    },
    async isRevoked (jti: string): Promise<boolean> {
      return (await sql`SELECT 1 FROM revoked_tokens WHERE jti = ${jti}`).length > 0
    },
    async purgeExpired (nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
      return (await sql`DELETE FROM revoked_tokens WHERE expires_at < ${nowSeconds}`).count
    }
  }
}

export function createPgMedia (sql: Queries, ring: FernetRing, unreadable: UnreadableRows): MediaStore {
  return {
    async add (records: readonly MediaRecord[]): Promise<void> {
      if (records.length === 0) return
      const now = new Date().toISOString()
      const rows = records.map((r) => ({
        name: r.name, mime: r.mime, original_name: ring.encrypt(r.originalName), size: r.size, uploader_id: r.uploaderId, created_at: now, room_id: r.roomId ?? null
      }))
      await sql`INSERT INTO media ${sql(rows)}`
    },
    async get (name: string): Promise<MediaRecord | null> {
      const [row] = await sql<MediaRow[]>`SELECT name, mime, original_name, size, uploader_id, room_id FROM media WHERE name = ${name}`
      return row === undefined ? null : toMediaRecord(row, ring, unreadable)
    },
    async link (messageId: number, names: readonly string[]): Promise<void> {
      if (names.length > 0) await sql`UPDATE media SET message_id = ${messageId} WHERE name = ANY(${[...names]}::text[])`
    },
    async remove (names: readonly string[]): Promise<void> {
      if (names.length > 0) await sql`DELETE FROM media WHERE name = ANY(${[...names]}::text[])`
    },
    async exists (name: string): Promise<boolean> {
      return (await sql`SELECT 1 FROM media WHERE name = ${name}`).length > 0
    },
    async usage (uploaderId: number): Promise<number> {
      const [row] = await sql<Array<{ total: number }>>`SELECT coalesce(sum(size), 0)::bigint AS total FROM media WHERE uploader_id = ${uploaderId}`
      return row?.total ?? 0
    }
  }
}
