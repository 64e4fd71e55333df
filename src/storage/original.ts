// The original Python app's chat.db (SQLAlchemy's tables `users`, `chat_rooms`, `messages`), read
// only: `npm run import` never writes to it.
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { MaintenanceError } from './maintenance.js'

export interface OriginalUser { id: number, username: string, passwordHash: string, createdAt: unknown }
export interface OriginalRoom { id: number, name: string, topic: string | null, createdAt: unknown }
export interface OriginalMessage {
  id: number
  roomId: number | null
  userId: number | null
  /** The Fernet token, as text; null when the row has no content. */
  token: string | null
  /** The enum's name: TEXT, IMAGE, VIDEO, FILE or SYSTEM. */
  type: string
  filePath: string | null
  createdAt: unknown
}

const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  users: ['id', 'username', 'password_hash', 'created_at'],
  chat_rooms: ['id', 'name', 'topic', 'created_at'],
  messages: ['id', 'room_id', 'user_id', 'content_encrypted', 'message_type', 'file_path', 'created_at']
}

/** A BLOB of token bytes (what the original writes), or text if something rewrote it. */
const tokenText = (value: unknown): string | null => {
  if (value === null || value === undefined) return null
  const text = (Buffer.isBuffer(value) ? value.toString('latin1') : String(value)).trim()
  return text === '' ? null : text
}

export function openOriginal (path: string) {
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch {
    throw new MaintenanceError(`No database at ${path}: give the original app's folder (the one with chat.db), or --db <file>.`)
  }
  try {
    for (const [table, columns] of Object.entries(REQUIRED)) {
      const have = new Set(db.prepare<[string], string>('SELECT name FROM pragma_table_info(?)').pluck().all(table))
      const missing = columns.filter((c) => !have.has(c))
      if (missing.length > 0) {
        throw new MaintenanceError(`${path} is not the original app's database: ${have.size === 0 ? `it has no ${table} table` : `${table} has no ${missing.join(', ')}`}.`)
      }
    }
  } catch (error) {
    db.close()
    if (error instanceof MaintenanceError) throw error
    throw new MaintenanceError(`${path} cannot be read as an SQLite database (${(error as Error).message}).`)
  }

  const users = db.prepare<[], { id: number, username: string, password_hash: string | null, created_at: unknown }>(
    'SELECT id, username, password_hash, created_at FROM users ORDER BY id')
  const rooms = db.prepare<[], { id: number, name: string, topic: string | null, created_at: unknown }>(
    'SELECT id, name, topic, created_at FROM chat_rooms ORDER BY id')
  const messagesAfter = db.prepare<[number, number], {
    id: number, room_id: number | null, user_id: number | null, content_encrypted: unknown, message_type: unknown, file_path: string | null, created_at: unknown
  }>('SELECT id, room_id, user_id, content_encrypted, message_type, file_path, created_at FROM messages WHERE id > ? ORDER BY id LIMIT ?')
  const tokensAfter = db.prepare<[number, number], [number, unknown]>('SELECT id, content_encrypted FROM messages WHERE id > ? ORDER BY id LIMIT ?').raw()
  const countMessages = db.prepare<[], number>('SELECT count(*) FROM messages').pluck()
  const firstUser = db.prepare<[], { id: number, username: string, created_at: unknown }>(
    'SELECT id, username, created_at FROM users ORDER BY id LIMIT 1')

  return {
    /**
     * Tells this original database from another one, wherever its folder is now: a digest of its
     * first user (who registered first, and when, to the microsecond).
     */
    sourceId (): string {
      const first = firstUser.get()
      const text = first === undefined ? 'no users' : `${first.id}\u0000${first.username}\u0000${String(first.created_at)}`
      return createHash('sha256').update(`secure-chat import\u0000${text}`).digest('hex').slice(0, 16)
    },
    users: (): OriginalUser[] => users.all().map((r) => ({ id: r.id, username: String(r.username), passwordHash: r.password_hash ?? '', createdAt: r.created_at })),
    rooms: (): OriginalRoom[] => rooms.all().map((r) => ({ id: r.id, name: String(r.name), topic: r.topic, createdAt: r.created_at })),
    messageCount: (): number => countMessages.get() ?? 0,
    /** Only ids and tokens (for the key check): [id, token or null]. */
    tokensAfter: (afterId: number, limit: number): Array<[number, string | null]> =>
      tokensAfter.all(afterId, limit).map(([id, token]) => [id, tokenText(token)]),
    /** The next `limit` messages after `afterId`, in id (sending) order. */
    messagesAfter: (afterId: number, limit: number): OriginalMessage[] => messagesAfter.all(afterId, limit).map((r) => ({
      id: r.id,
      roomId: r.room_id,
      userId: r.user_id,
      token: tokenText(r.content_encrypted),
      type: String(r.message_type ?? 'TEXT').toUpperCase(),
      filePath: r.file_path,
      createdAt: r.created_at
    })),
    close: (): void => { db.close() }
  }
}

export type OriginalDatabase = ReturnType<typeof openOriginal>
