import type { Db } from './database.js'
import type { User } from './types.js'

interface UserRow { id: number, username: string, password_hash: string, created_at: string }

const toUser = (row: UserRow): User => ({ id: row.id, username: row.username, createdAt: row.created_at })

export function createUsersRepo (db: Db) {
  const insert = db.prepare<[string, string, string], UserRow>(
    'INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING *')
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?')
  const byId = db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?')
  // In a transaction of its own: alone, a RETURNING statement commits when it is reset, and a
  // failed commit there (a full disk) goes unreported: the new user would be lost, silently.
  const insertCommitted = db.transaction((username: string, hash: string, at: string) => insert.get(username, hash, at))

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
    }
  }
}
