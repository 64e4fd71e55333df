// The original Python app's folder, built in the test: chat.db with SQLAlchemy's schema as the
// original declares it, real bcrypt hashes, real Fernet tokens stored as raw bytes in a BLOB, its
// `.fernet_key` (or ENCRYPTION_KEY in `.env`), and `media/room_<id>/<uuid hex><ext>` files.
import bcrypt from 'bcryptjs'
import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Fernet } from '../../src/crypto/fernet.js'

const SCHEMA = `
CREATE TABLE users (
  id INTEGER NOT NULL, username VARCHAR(50) NOT NULL, password_hash VARCHAR(255) NOT NULL, created_at DATETIME,
  PRIMARY KEY (id), UNIQUE (username)
);
CREATE TABLE chat_rooms (
  id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, topic TEXT, created_at DATETIME,
  PRIMARY KEY (id), UNIQUE (name)
);
CREATE TABLE messages (
  id INTEGER NOT NULL, room_id INTEGER NOT NULL, user_id INTEGER NOT NULL, content_encrypted BLOB,
  message_type VARCHAR(6) NOT NULL, file_path VARCHAR(255), mime_type VARCHAR(100), created_at DATETIME,
  PRIMARY KEY (id), FOREIGN KEY(room_id) REFERENCES chat_rooms (id), FOREIGN KEY(user_id) REFERENCES users (id)
);
`

/** SQLAlchemy's text for a naive UTC datetime: `2025-06-01 10:00:00.123456`. */
export const naive = (date: Date, micros = 0): string =>
  `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds() * 1000 + micros).padStart(6, '0')}`

export interface OriginalUser { username: string, password: string, cost?: number, createdAt?: string }
export interface OriginalUpload {
  kind: 'IMAGE' | 'VIDEO' | 'FILE'
  /** The name the sender's file had: the original writes "Image: <name>" as the content. */
  name: string
  /** Absent: the file is missing from media/. */
  bytes?: Buffer
  mime?: string
}
export interface OriginalMessage { room: number, user: number, text?: string, upload?: OriginalUpload, type?: string, createdAt?: string }

export class OriginalApp {
  readonly db: Database.Database
  readonly key: string
  readonly fernet: Fernet
  readonly passwords = new Map<number, string>()
  #clock = Date.UTC(2025, 5, 1, 10, 0, 0)

  constructor (readonly dir: string, options: { keyIn?: 'file' | 'env' | 'none', key?: string } = {}) {
    mkdirSync(join(dir, 'media'), { recursive: true })
    this.key = options.key ?? Fernet.generateKey()
    this.fernet = new Fernet(this.key)
    if ((options.keyIn ?? 'file') === 'file') writeFileSync(join(dir, '.fernet_key'), this.key) // as Python writes it: no newline
    if (options.keyIn === 'env') writeFileSync(join(dir, '.env'), `DATABASE_URL=sqlite:///./chat.db\nENCRYPTION_KEY=${this.key}\n`)
    this.db = new Database(join(dir, 'chat.db'))
    this.db.exec(SCHEMA)
    // Seeded like ours.
    for (const [name, topic] of [['General', 'General discussion'], ['Development', 'Dev talk'], ['Support', null]]) this.addRoom(name!, topic)
  }

  /** The next timestamp, a second and some microseconds after the last. */
  tick (): string {
    this.#clock += 1000
    return naive(new Date(this.#clock), 123)
  }

  addUser (user: OriginalUser): number {
    const hash = bcrypt.hashSync(user.password, user.cost ?? 4)
    const { lastInsertRowid } = this.db.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run(user.username, hash, user.createdAt ?? this.tick())
    this.passwords.set(Number(lastInsertRowid), user.password)
    return Number(lastInsertRowid)
  }

  addRoom (name: string, topic: string | null = null): number {
    return Number(this.db.prepare('INSERT INTO chat_rooms (name, topic, created_at) VALUES (?, ?, ?)').run(name, topic, this.tick()).lastInsertRowid)
  }

  /** The token bytes, as the original stores them (LargeBinary). */
  token (text: string): Buffer {
    return Buffer.from(this.fernet.encrypt(text), 'ascii')
  }

  addMessage (m: OriginalMessage): number {
    let type = m.type ?? 'TEXT'
    let text = m.text ?? ''
    let path: string | null = null
    let mime: string | null = null
    if (m.upload !== undefined) {
      type = m.upload.kind
      text = `${{ IMAGE: 'Image', VIDEO: 'Video', FILE: 'File' }[m.upload.kind]}: ${m.upload.name}`
      const ext = m.upload.name.includes('.') ? m.upload.name.slice(m.upload.name.lastIndexOf('.')) : ''
      path = `/media/room_${m.room}/${randomBytes(16).toString('hex')}${ext}`
      mime = m.upload.mime ?? 'application/octet-stream'
      if (m.upload.bytes !== undefined) {
        mkdirSync(join(this.dir, 'media', `room_${m.room}`), { recursive: true })
        writeFileSync(join(this.dir, path.slice(1)), m.upload.bytes)
      }
    }
    return Number(this.db.prepare('INSERT INTO messages (room_id, user_id, content_encrypted, message_type, file_path, mime_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(m.room, m.user, this.token(text), type, path, mime, m.createdAt ?? this.tick()).lastInsertRowid)
  }

  /** Many text messages in one transaction (for the few-thousand test and the bench). */
  addTextMessages (count: number, rooms: readonly number[], users: readonly number[]): void {
    const insert = this.db.prepare("INSERT INTO messages (room_id, user_id, content_encrypted, message_type, created_at) VALUES (?, ?, ?, 'TEXT', ?)")
    this.db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(rooms[i % rooms.length], users[i % users.length], this.token(`message ${i} ✓`), this.tick())
    })()
  }

  close (): void {
    this.db.close()
  }
}
