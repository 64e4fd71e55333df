// Opens the SQLite file: pragmas, migrations, the key check and the seed rooms.
// Everything here runs once at start, synchronously, before the server takes a request.
import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type { FernetRing } from '../crypto/fernet.js'
import { roomNameKey } from '../text/names.js'
import { migrations } from './migrations.js'
import { checkPlace, explain, StorageProblem, type Place } from './problems.js'

export type Db = Database.Database

/** The database was written with keys that this server does not hold. */
export class KeyMismatchError extends Error {
  constructor () {
    super('ENCRYPTION_KEY cannot read this database: it was written with another key. Start with the original key (or put it after the new one: "new,old"). Nothing was changed.')
    this.name = 'KeyMismatchError'
  }
}

export const KEY_CHECK = 'key_check'
export const KEY_CHECK_TEXT = 'secure-chat key check'

export const seedRooms: ReadonlyArray<[string, string]> = [
  ['General', 'Company-wide discussions'],
  ['Development', 'Engineering and product updates'],
  ['Support', 'Customer success and support chats']
]

export interface OpenOptions {
  /** What a migration has to tell the operator (e.g. rooms whose names now fold together). */
  log?: (message: string) => void
}

/** Owner-only: the file holds password hashes, names and who said what when. */
const PRIVATE_FILE = 0o600

/**
 * Makes the database file owner-only before SQLite opens it: SQLite gives the `-wal` and `-shm`
 * files it creates the database file's mode. A file that existed already is tightened as well
 * (and its `-wal`/`-shm`, if any); a folder the operator had is left as it is, one we create is 0700.
 */
export function prepareDatabaseFile (path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', PRIVATE_FILE))
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, PRIVATE_FILE)
  }
}

const DATABASE: Place = { what: 'the database', setting: 'DATABASE_URL', kind: 'file' }

export function openDatabase (path: string, ring: FernetRing, options: OpenOptions = {}): Db {
  let db: Db
  try {
    if (path !== ':memory:') {
      checkPlace(path, DATABASE)
      prepareDatabaseFile(path)
    }
    db = new Database(path)
  } catch (error) {
    throw explain(error, path, DATABASE)
  }
  try {
    db.pragma('journal_mode = WAL')
    // FULL: an acknowledged message survives a power loss, not only a process crash.
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    // Deleted content is overwritten with zeros in the file, not left in free pages (a deleted
    // message's text, earlier versions and reactions; see "Message lifecycle" in the README).
    db.pragma('secure_delete = ON')
    // At start, before any request, a lock held by a backup or a shell may be waited out (5 s)...
    db.pragma('busy_timeout = 5000')
    checkKey(db, ring)
    migrate(db, ring, options.log ?? (() => {}))
    // ...but never afterwards: SQLite's busy handler sleeps on the calling thread, the event loop.
    // Writes that find the database locked try again from a timer (storage/failures.ts); WAL
    // readers never need the lock.
    db.pragma('busy_timeout = 0')
    return db
  } catch (error) {
    db.close()
    const code = (error as { code?: unknown }).code
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StorageProblem(`The database ${path} is not a Secure Chat database, or it is damaged (${code}). Check DATABASE_URL; to restore a backup, see Backups in the README.`)
    }
    throw typeof code === 'string' && code.startsWith('SQLITE_') ? explain(error, path, DATABASE) : error
  }
}

/** Throws KeyMismatchError when no key in the ring reads the key-check row (the CLI tools use it too). */
export function checkKey (db: Db, ring: FernetRing): void {
  if (db.pragma('user_version', { simple: true }) === 0) return
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY_CHECK) as { value: string } | undefined
  if (row === undefined) return
  try {
    if (ring.decryptText(row.value) === KEY_CHECK_TEXT) return
  } catch {}
  throw new KeyMismatchError()
}

function migrate (db: Db, ring: FernetRing, log: (message: string) => void): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > migrations.length) {
    throw new StorageProblem(`The database ${db.name} is from a newer Secure Chat (schema ${version}, this one knows ${migrations.length}): upgrade the server.`)
  }
  // Up to date: no write transaction, so opening never waits for another writer's lock.
  if (version === migrations.length) return
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) {
      const migration = migrations[v]!
      if (typeof migration === 'string') db.exec(migration)
      else migration(db, log)
    }
    db.pragma(`user_version = ${migrations.length}`)
    if (version === 0) {
      const now = new Date().toISOString()
      const insert = db.prepare('INSERT INTO rooms (name, name_key, topic, created_at) VALUES (?, ?, ?, ?)')
      for (const [name, topic] of seedRooms) insert.run(name, roomNameKey(name), topic, now)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(KEY_CHECK, ring.encrypt(KEY_CHECK_TEXT))
    }
  }).immediate()
}

/** Re-encrypts the key-check row under the current key, after a rotation. */
export function refreshKeyCheck (db: Db, ring: FernetRing): void {
  db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(ring.encrypt(KEY_CHECK_TEXT), KEY_CHECK)
}
