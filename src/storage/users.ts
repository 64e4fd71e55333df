import type { Db } from './database.js'
import type { Author, User } from './types.js'

interface UserRow { id: number, username: string, password_hash: string, created_at: string, is_admin: number }

const toUser = (row: UserRow): User => ({ id: row.id, username: row.username, createdAt: row.created_at, isAdmin: row.is_admin === 1 })

/** `prefix` for a LIKE pattern: its wildcards (and `_` is in usernames) taken literally. */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

export function createUsersRepo (db: Db) {
  // The first account of a database is its administrator (API.md "Moderation").
  const insert = db.prepare<[string, string, string], UserRow>(
    'INSERT INTO users (username, password_hash, created_at, is_admin) VALUES (?, ?, ?, NOT EXISTS (SELECT 1 FROM users)) ON CONFLICT DO NOTHING RETURNING *')
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?')
  const byId = db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?')
  const forToken = db.prepare<[number, string], UserRow>('SELECT * FROM users WHERE id = ? AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?)')
  // LIKE is case-insensitive for ASCII (all a username may hold), and the NOCASE index serves it.
  const search = db.prepare<[string, number], Author>("SELECT id, username FROM users WHERE username LIKE ? ESCAPE '\\' ORDER BY username COLLATE NOCASE LIMIT ?")
  const setAdmin = db.prepare<[number, string], UserRow>('UPDATE users SET is_admin = ? WHERE username = ? RETURNING *')
  // In a transaction of its own: alone, a RETURNING statement commits when it is reset, and a
  // failed commit there (a full disk) goes unreported: the new user would be lost, silently.
  const insertCommitted = db.transaction((username: string, hash: string, at: string) => insert.get(username, hash, at))
  const setAdminCommitted = db.transaction((username: string, isAdmin: boolean) => setAdmin.get(isAdmin ? 1 : 0, username))

  return {
    /** The new user, or null when the name is taken (without regard to case). */
    create (username: string, passwordHash: string): User | null {
      const row = insertCommitted(username, passwordHash, new Date().toISOString())
      return row === undefined ? null : toUser(row)
    },
    /** The user and their hash, for logging in. The hash never leaves the auth module. */
    findForLogin (username: string): { user: User, passwordHash: string } | null {
      const row = byName.get(username)
      return row === undefined ? null : { user: toUser(row), passwordHash: row.password_hash }
    },
    findById (id: number): User | null {
      const row = byId.get(id)
      return row === undefined ? null : toUser(row)
    },
    forToken (id: number, jti: string): User | null {
      const row = forToken.get(id, jti)
      return row === undefined ? null : toUser(row)
    },
    /** Those of these ids that are users, in no particular order. */
    authors (ids: readonly number[]): Author[] {
      if (ids.length === 0) return []
      return db.prepare<number[], Author>(`SELECT id, username FROM users WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids)
    },
    /** Up to `limit` users whose name starts with `prefix` (without regard to case), by name. */
    search: (prefix: string, limit: number): Author[] => search.all(likePrefix(prefix), limit),
    /** Grants or revokes server administration; null when nobody has that name. */
    setAdmin (username: string, isAdmin: boolean): User | null {
      const row = setAdminCommitted(username, isAdmin)
      return row === undefined ? null : toUser(row)
    }
  }
}
