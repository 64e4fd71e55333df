// What `npm run import` writes on PostgreSQL: the same rows as on SQLite (../imports.ts), each
// batch one transaction. Messages go through the messages store's own batch insert, inside the
// batch's transaction, so their seqs, the counters, the files' rows and the `imported` rows
// commit together or not at all. Given a transaction instead of the pool (--dry-run), each batch
// is a savepoint in it, and the caller rolls the whole run back.
import type { FernetRing } from '../../crypto/fernet.js'
import { roomNameKey } from '../../text/names.js'
import { ImportConflictError, type ImportKind, type ImportsStore } from '../imports.js'
import type { UnreadableRows } from '../unreadable.js'
import { createPgMedia } from './accounts.js'
import type { Sql, Tx } from './connect.js'
import type { PgMessagesStore } from './messages.js'

/** "SCIP": with the schema's hash, the lock one import into this schema holds from start to end. */
const IMPORT_LOCK = 0x53434950

/**
 * Holds the import lock of DATABASE_URL's schema (on a connection of its own) until the returned
 * release: two imports never interleave. The second waits, `onWait` tells it, and then it finds the
 * first's rows already imported.
 */
export async function holdImportLock (sql: Sql, onWait: () => void): Promise<() => Promise<void>> {
  const conn = await sql.reserve()
  try {
    const [row] = await conn<Array<{ got: boolean }>>`SELECT pg_try_advisory_lock(${IMPORT_LOCK}, hashtext(current_schema())) AS got`
    if (row?.got !== true) {
      onWait()
      await conn`SELECT pg_advisory_lock(${IMPORT_LOCK}, hashtext(current_schema()))`
    }
  } catch (error) {
    conn.release()
    throw error
  }
  return async () => {
    try {
      await conn`SELECT pg_advisory_unlock(${IMPORT_LOCK}, hashtext(current_schema()))`
    } finally {
      conn.release()
    }
  }
}

export function createPgImports (sql: Sql | Tx, messages: PgMessagesStore, ring: FernetRing, unreadable: UnreadableRows): ImportsStore {
  const atomically = async <T>(work: (tx: Tx) => Promise<T>): Promise<T> =>
    ('savepoint' in sql ? await sql.savepoint(work) : await sql.begin(work)) as T

  const remember = async (tx: Tx, source: string, kind: ImportKind, pairs: ReadonlyArray<[number, number]>): Promise<void> => {
    if (pairs.length === 0) return
    // Two arrays rather than a row of parameters per pair: one short statement, planned once.
    await tx`INSERT INTO imported (source, kind, source_id, target_id)
      SELECT ${source}, ${kind}, v.source_id, v.target_id FROM unnest(${pairs.map((p) => p[0])}::bigint[], ${pairs.map((p) => p[1])}::bigint[]) AS v (source_id, target_id)`
  }

  return {
    async imported (source, kind) {
      const rows = await sql<Array<{ source_id: number, target_id: number }>>`
        SELECT source_id, target_id FROM imported WHERE source = ${source} AND kind = ${kind}`
      return new Map(rows.map((row) => [row.source_id, row.target_id]))
    },
    async usernames () {
      return (await sql<Array<{ username: string }>>`SELECT username FROM users`).map((row) => row.username)
    },
    async roomKeys () {
      return (await sql<Array<{ id: number, name_key: string }>>`SELECT id, name_key FROM rooms ORDER BY id`).map((row) => ({ id: row.id, key: row.name_key }))
    },
    async addUsers (source, users) {
      if (users.length === 0) return []
      return await atomically(async (tx) => {
        const rows = await tx<Array<{ id: number, username: string }>>`INSERT INTO users ${tx(users.map((u) => ({ username: u.username, password_hash: u.passwordHash, created_at: u.createdAt })))}
          ON CONFLICT DO NOTHING RETURNING id, username`
        // RETURNING promises no order: matched by name (unique without regard to case).
        const ids = new Map(rows.map((row) => [row.username.toLowerCase(), row.id]))
        const mapped = users.map((u): [number, number] => {
          const id = ids.get(u.username.toLowerCase())
          if (id === undefined) throw new ImportConflictError(`The user name ${u.username}`)
          return [u.sourceId, id]
        })
        await remember(tx, source, 'user', mapped)
        return mapped.map(([, id]) => id)
      })
    },
    async addRooms (source, rooms) {
      if (rooms.length === 0) return []
      return await atomically(async (tx) => {
        const fresh = rooms.flatMap((room) => ('mergeInto' in room ? [] : [{ name: room.name, name_key: roomNameKey(room.name), topic: room.topic, created_at: room.createdAt }]))
        const rows = fresh.length === 0
          ? []
          : await tx<Array<{ id: number, name_key: string }>>`INSERT INTO rooms ${tx(fresh)} ON CONFLICT DO NOTHING RETURNING id, name_key`
        const ids = new Map(rows.map((row) => [row.name_key, row.id]))
        const mapped = rooms.map((room): [number, number] => {
          if ('mergeInto' in room) return [room.sourceId, room.mergeInto]
          const id = ids.get(roomNameKey(room.name))
          if (id === undefined) throw new ImportConflictError(`The room name ${room.name}`)
          return [room.sourceId, id]
        })
        await remember(tx, source, 'room', mapped)
        return mapped.map(([, id]) => id)
      })
    },
    async addMessages (source, batch) {
      if (batch.length === 0) return
      await atomically(async (tx) => {
        const media = createPgMedia(tx, ring, unreadable)
        await media.add(batch.flatMap((item) => item.files))
        const results = await messages.insertIn(tx, batch.map((item) => item.message))
        const pairs: Array<[number, number]> = []
        for (const [i, result] of results.entries()) {
          if (!result.ok) throw result.error
          const item = batch[i]!
          const id = result.value.message.id
          await media.link(id, item.files.map((f) => f.name))
          pairs.push([item.sourceId, id])
        }
        await remember(tx, source, 'message', pairs)
      })
    }
  }
}
