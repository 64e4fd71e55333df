// The operator's tools (src/cli): key rotation and online backups. SQL stays here, like the rest.
// Both work on a database a running server may be using: WAL lets readers in beside the writer,
// busy_timeout makes a short wait out of a lock, and rotation writes in small transactions.
import Database from 'better-sqlite3'
import { closeSync, openSync } from 'node:fs'
import { FernetRing, InvalidToken } from '../crypto/fernet.js'
import { checkKey, refreshKeyCheck, type Db } from './database.js'
import { migrations } from './migrations.js'

/** A problem the operator can act on; the CLI prints its message as one line. */
export class MaintenanceError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MaintenanceError'
  }
}

/**
 * Opens an existing database that the given keys can read, at the schema this code knows. Never
 * creates or migrates anything: the server does that.
 */
export function openExisting (path: string, ring: FernetRing): Db {
  let db: Db
  try {
    db = new Database(path, { fileMustExist: true })
  } catch {
    throw new MaintenanceError(`No database at ${path}: check DATABASE_URL (and the directory you run this in).`)
  }
  try {
    db.pragma('busy_timeout = 10000')
    db.pragma('synchronous = FULL')
    const version = db.pragma('user_version', { simple: true }) as number
    if (version !== migrations.length) {
      throw new MaintenanceError(`The database is at schema ${version}, this tool knows ${migrations.length}: start the server once with this version first.`)
    }
    checkKey(db, ring)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** A row that none of the keys can read. */
export class UnreadableRowError extends MaintenanceError {
  constructor (where: string) {
    super(`${where} cannot be read with any key in ENCRYPTION_KEY: add the key it was written with. Rows done so far stay done.`)
    this.name = 'UnreadableRowError'
  }
}

/** The token under the ring's first key (itself when it is already), or null when no key reads it. Shared by both databases' rotations. */
export function underFirstKey (ring: FernetRing, token: string): string | null {
  if (ring.isCurrent(token)) return token
  try {
    return ring.rotate(token) // keeps the token's timestamp: when the message was written
  } catch (error) {
    if (error instanceof InvalidToken) return null
    throw error
  }
}

export interface BatchResult {
  /** Where the next batch starts; null when this table is done. */
  next: number | string | null
  checked: number
  rotated: number
}

/**
 * Re-encrypts under the first key, in batches: messages by id, uploads' names by name, each batch
 * one short transaction. Rows already under the first key are skipped, so an interrupted run
 * simply starts again (and a rerun of a finished one changes nothing).
 */
export function createRotation (db: Db, ring: FernetRing) {
  const messagesAfter = db.prepare<[number, number], { id: number, body: string, attachment: string | null }>(
    'SELECT id, body, attachment FROM messages WHERE id > ? ORDER BY id LIMIT ?')
  const updateMessage = db.prepare<[string, string | null, number]>('UPDATE messages SET body = ?, attachment = ? WHERE id = ?')
  // A message's earlier versions are rotated with it.
  const editsOf = db.prepare<[number], { id: number, body: string }>('SELECT id, body FROM message_edits WHERE message_id = ?')
  const updateEdit = db.prepare<[string, number]>('UPDATE message_edits SET body = ? WHERE id = ?')
  const mediaAfter = db.prepare<[string, number], { name: string, original_name: string }>(
    'SELECT name, original_name FROM media WHERE name > ? ORDER BY name LIMIT ?')
  const updateMedia = db.prepare<[string, string]>('UPDATE media SET original_name = ? WHERE name = ?')
  const count = {
    messages: db.prepare<[], number>('SELECT count(*) FROM messages').pluck(),
    media: db.prepare<[], number>('SELECT count(*) FROM media').pluck()
  }

  const current = (token: string, where: string): string => {
    const rotated = underFirstKey(ring, token)
    if (rotated === null) throw new UnreadableRowError(where)
    return rotated
  }

  const messageBatch = db.transaction((afterId: number, size: number): BatchResult => {
    const rows = messagesAfter.all(afterId, size)
    let rotated = 0
    for (const row of rows) {
      // A tombstone holds no token at all.
      if (row.body === '' && row.attachment === null) continue
      for (const edit of editsOf.all(row.id)) {
        const body = current(edit.body, `An earlier version of message ${row.id}`)
        if (body !== edit.body) updateEdit.run(body, edit.id)
      }
      const body = current(row.body, `Message ${row.id}`)
      const attachment = row.attachment === null ? null : current(row.attachment, `The attachment of message ${row.id}`)
      if (body !== row.body || attachment !== row.attachment) {
        updateMessage.run(body, attachment, row.id)
        rotated++
      }
    }
    return { next: rows.length < size ? null : rows.at(-1)!.id, checked: rows.length, rotated }
  })

  const mediaBatch = db.transaction((afterName: string, size: number): BatchResult => {
    const rows = mediaAfter.all(afterName, size)
    let rotated = 0
    for (const row of rows) {
      const name = current(row.original_name, `The name of upload ${row.name}`)
      if (name !== row.original_name) {
        updateMedia.run(name, row.name)
        rotated++
      }
    }
    return { next: rows.length < size ? null : rows.at(-1)!.name, checked: rows.length, rotated }
  })

  return {
    totals: () => ({ messages: count.messages.get() ?? 0, media: count.media.get() ?? 0 }),
    messageBatch: (afterId: number, size: number): BatchResult => messageBatch.immediate(afterId, size),
    mediaBatch: (afterName: string, size: number): BatchResult => mediaBatch.immediate(afterName, size),
    /** Where the first key alone cannot read a row: the first few, for the error message. */
    unreadableWithFirstKey (firstOnly: FernetRing, max = 5): string[] {
      const bad: string[] = []
      const readable = (token: string): boolean => {
        try {
          firstOnly.decrypt(token)
          return true
        } catch {
          return false
        }
      }
      for (const row of db.prepare<[], { id: number, body: string, attachment: string | null }>('SELECT id, body, attachment FROM messages ORDER BY id').iterate()) {
        if (row.body === '' && row.attachment === null) continue // a tombstone
        if (!readable(row.body) || (row.attachment !== null && !readable(row.attachment))) bad.push(`message ${row.id}`)
        if (bad.length >= max) return bad
      }
      for (const row of db.prepare<[], { id: number, message_id: number, body: string }>('SELECT id, message_id, body FROM message_edits ORDER BY id').iterate()) {
        if (!readable(row.body)) bad.push(`an earlier version of message ${row.message_id}`)
        if (bad.length >= max) return bad
      }
      for (const row of db.prepare<[], { name: string, original_name: string }>('SELECT name, original_name FROM media ORDER BY name').iterate()) {
        if (!readable(row.original_name)) bad.push(`upload ${row.name}`)
        if (bad.length >= max) return bad
      }
      return bad
    },
    /** After a verified rotation: from now on only the first key opens this database. */
    refreshKeyCheck: (): void => refreshKeyCheck(db, ring)
  }
}

/**
 * A consistent copy of a live database into `file` (which must not exist), as one self-contained
 * file (rollback journal, not WAL), checked with integrity_check. Returns the page count.
 */
export async function backupDatabase (db: Db, file: string): Promise<number> {
  // Created owner-only before SQLite writes into it (an empty file is an empty database): the copy
  // holds password hashes and names like the original. Its journal gets the same mode.
  closeSync(openSync(file, 'wx', 0o600))
  // All remaining pages in one step: a single read snapshot, never restarted by a concurrent write.
  const { totalPages } = await db.backup(file, { progress: ({ totalPages }) => Math.max(100, totalPages) })
  const copy = new Database(file)
  try {
    copy.pragma('journal_mode = DELETE')
    const check = copy.pragma('integrity_check', { simple: true })
    if (check !== 'ok') throw new MaintenanceError(`The copy failed its integrity check (${String(check)}).`)
  } finally {
    copy.close()
  }
  return totalPages
}

/** Opens a copy to prove the keys read it (used on a fresh backup). */
export function checkCopyReadable (file: string, ring: FernetRing): void {
  const copy = new Database(file, { readonly: true, fileMustExist: true })
  try {
    checkKey(copy, ring)
  } finally {
    copy.close()
  }
}
