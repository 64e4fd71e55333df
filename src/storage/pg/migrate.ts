// Migrations on PostgreSQL: the files in migrations/pg, applied in one transaction under an
// advisory lock, so nodes starting together never both migrate (the second waits, then finds
// nothing left to do). schema_migrations records each version applied. A new database also gets
// the seed rooms and the key-check row here, in the same transaction.
import type { FernetRing } from '../../crypto/fernet.js'
import { KEY_CHECK, KEY_CHECK_TEXT, KeyMismatchError, seedRooms } from '../database.js'
import { loadMigrations, type MigrationFile } from '../migrate/files.js'
import { roomNameKey } from '../../text/names.js'
import type { Sql, Tx } from './connect.js'

/** Any fixed number: the lock every Secure Chat node takes to migrate ("SCHAT" in ASCII). */
const MIGRATION_LOCK = 0x5343484154

/** Applies what is missing; returns the versions applied (none when up to date). */
export async function migratePg (sql: Sql, ring: FernetRing, log: (message: string) => void = () => {}, files: MigrationFile[] = loadMigrations('pg')): Promise<number[]> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`
    const [row] = await tx<Array<{ version: number | null }>>`SELECT max(version) AS version FROM schema_migrations`
    const current = row?.version ?? 0
    if (current > files.length) {
      throw new Error(`The database is from a newer Secure Chat (schema ${current}, this one knows ${files.length}): upgrade the server.`)
    }
    if (current > 0) await checkKeyPg(tx, ring)
    const applied: number[] = []
    for (const file of files.slice(current)) {
      if (file.step !== null) throw new Error(`migrations/pg/${file.name}: PostgreSQL migrations have no steps in code`)
      await tx.unsafe(file.sql)
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${file.version}, ${file.name})`
      applied.push(file.version)
      log(`PostgreSQL schema: applied migration ${file.version} (${file.name})`)
    }
    if (current === 0) {
      const now = new Date()
      for (const [name, topic] of seedRooms) {
        await tx`INSERT INTO rooms (name, name_key, topic, created_at) VALUES (${name}, ${roomNameKey(name)}, ${topic}, ${now})`
      }
      await tx`INSERT INTO meta (key, value) VALUES (${KEY_CHECK}, ${ring.encrypt(KEY_CHECK_TEXT)})`
    }
    return applied
  })
}

/** Throws KeyMismatchError when no key in the ring reads the key-check row. */
export async function checkKeyPg (tx: Tx | Sql, ring: FernetRing): Promise<void> {
  const [row] = await tx<Array<{ value: string }>>`SELECT value FROM meta WHERE key = ${KEY_CHECK}`
  if (row === undefined) return
  try {
    if (ring.decryptText(row.value) === KEY_CHECK_TEXT) return
  } catch {}
  throw new KeyMismatchError()
}
