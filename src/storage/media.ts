import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import type { UnreadableRows } from './unreadable.js'

/** A stored upload: what serving it needs, and who sent it. */
export interface MediaRecord {
  name: string
  mime: string
  /** The cleaned original name, for display and Content-Disposition. */
  originalName: string
  size: number
  uploaderId: number
  /** The room it was shared in (null: before rooms could be private, so a public one). */
  roomId?: number | null
}

export interface MediaRow {
  name: string
  mime: string
  original_name: string
  size: number
  uploader_id: number
  room_id: number | null
}

/** A stored row as a record; a name no key decrypts is served as a neutral `file.<ext>` (the file itself is fine). */
export function toMediaRecord (row: MediaRow, ring: FernetRing, unreadable: UnreadableRows): MediaRecord {
  let originalName: string
  try {
    originalName = ring.decryptText(row.original_name)
  } catch {
    unreadable.saw(`upload ${row.name}`)
    originalName = `file${row.name.slice(row.name.lastIndexOf('.'))}`
  }
  return { name: row.name, mime: row.mime, originalName, size: row.size, uploaderId: row.uploader_id, roomId: row.room_id }
}

/** Uploaded files. The original name is encrypted at rest like message bodies: it can say a lot. */
export function createMediaRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows) {
  const insert = db.prepare<[string, string, string, number, number, string, number | null]>(
    'INSERT INTO media (name, mime, original_name, size, uploader_id, created_at, room_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const byName = db.prepare<[string], MediaRow>('SELECT name, mime, original_name, size, uploader_id, room_id FROM media WHERE name = ?')
  const link = db.prepare<[number, string]>('UPDATE media SET message_id = ? WHERE name = ?')
  const remove = db.prepare<[string]>('DELETE FROM media WHERE name = ?')
  const usage = db.prepare<[number], number>('SELECT COALESCE(SUM(size), 0) FROM media WHERE uploader_id = ?').pluck()
  const exists = db.prepare<[string], number>('SELECT 1 FROM media WHERE name = ?').pluck()

  return {
    add (records: readonly MediaRecord[]): void {
      const now = new Date().toISOString()
      db.transaction(() => {
        for (const r of records) insert.run(r.name, r.mime, ring.encrypt(r.originalName), r.size, r.uploaderId, now, r.roomId ?? null)
      })()
    },
    get (name: string): MediaRecord | null {
      const row = byName.get(name)
      return row === undefined ? null : toMediaRecord(row, ring, unreadable)
    },
    /** Marks files as shared by a committed message. */
    link (messageId: number, names: readonly string[]): void {
      db.transaction(() => { for (const name of names) link.run(messageId, name) })()
    },
    remove (names: readonly string[]): void {
      db.transaction(() => { for (const name of names) remove.run(name) })()
    },
    exists: (name: string): boolean => exists.get(name) !== undefined,
    /** Bytes stored for this user so far (for the upload quota). */
    usage: (uploaderId: number): number => usage.get(uploaderId) ?? 0
  }
}
