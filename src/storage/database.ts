// Opens the SQLite file: pragmas, migrations, the key check and the seed rooms.
// Everything here runs once at start, synchronously, before the server takes a request.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { FernetRing } from '../crypto/fernet.js'
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

const KEY_CHECK = 'key_check'
const KEY_CHECK_TEXT = 'secure-chat key check'

const seedRooms: ReadonlyArray<[string, string]> = [
  ['General', 'Company-wide discussions'],
  ['Development', 'Engineering and product updates'],
  ['Support', 'Customer success and support chats']
]

export function roomNameKey (name: string): string {
  return name.normalize('NFC').toLowerCase()
}

const DATABASE: Place = { what: 'the database', setting: 'DATABASE_URL', kind: 'file' }

export function openDatabase (path: string, ring: FernetRing): Db {
  let db: Db
  try {
    if (path !== ':memory:') {
      checkPlace(path, DATABASE)
      mkdirSync(dirname(path), { recursive: true })
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
    db.pragma('busy_timeout = 5000')
    checkKey(db, ring)
    migrate(db, ring)
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

function migrate (db: Db, ring: FernetRing): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > migrations.length) {
    throw new StorageProblem(`The database ${db.name} is from a newer Secure Chat (schema ${version}, this one knows ${migrations.length}): upgrade the server.`)
  }
  // Up to date: no write transaction, so opening never waits for another writer's lock.
  if (version === migrations.length) return
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!)
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
