// What `npm run import` writes: users with the hash and time they had, rooms, and history in
// batches. Messages go through the messages repo's own insert, so everything kept with a send
// (the unread counters, anything added later) stays right; the `imported` table remembers where
// each row came from, in the same transaction as the row. ImportsStore is what the importer sees;
// this file is SQLite's, pg/imports.ts PostgreSQL's.
import { roomNameKey } from '../text/names.js'
import type { Db } from './database.js'
import type { createMediaRepo, MediaRecord } from './media.js'
import type { createMessagesRepo } from './messages.js'
import type { NewMessage } from './types.js'

export type ImportKind = 'user' | 'room' | 'message'

export interface ImportedUser { sourceId: number, username: string, passwordHash: string, createdAt: string }
/** A room made here, or (`mergeInto`) one of ours that takes the original's history. */
export type ImportedRoom = { sourceId: number, name: string, topic: string, createdAt: string } | { sourceId: number, mergeInto: number }
export interface ImportedMessage {
  sourceId: number
  message: NewMessage & { createdAt: string }
  /** Rows for files already in MEDIA_DIR, shared by this message. */
  files: MediaRecord[]
}

/** The import refused a row the plan said was free (a name taken meanwhile): nothing of the batch stands. */
export class ImportConflictError extends Error {
  constructor (what: string) {
    super(`${what} was taken while the import ran; run the import again (nothing of this batch was written).`)
    this.name = 'ImportConflictError'
  }
}

/** What the importer (src/import/importer.ts) writes through, on either database. */
export interface ImportsStore {
  /** Source id → our id, for what earlier runs brought in from this source. */
  imported: (source: string, kind: ImportKind) => Promise<Map<number, number>>
  usernames: () => Promise<string[]>
  /** Our rooms' comparison keys (src/text/names.ts), oldest room first. */
  roomKeys: () => Promise<Array<{ id: number, key: string }>>
  /** Our ids, in the order given. One transaction; ImportConflictError when a name was taken meanwhile. */
  addUsers: (source: string, users: readonly ImportedUser[]) => Promise<number[]>
  addRooms: (source: string, rooms: readonly ImportedRoom[]) => Promise<number[]>
  /** One transaction: the files' rows, the messages (each taking its room's next seq), and where they came from. */
  addMessages: (source: string, batch: readonly ImportedMessage[]) => Promise<void>
}

export function createImportsRepo (db: Db, messages: ReturnType<typeof createMessagesRepo>, media: ReturnType<typeof createMediaRepo>): ImportsStore {
  const mapped = db.prepare<[string, string], { source_id: number, target_id: number }>(
    'SELECT source_id, target_id FROM imported WHERE source = ? AND kind = ?')
  const remember = db.prepare<[string, string, number, number]>(
    'INSERT INTO imported (source, kind, source_id, target_id) VALUES (?, ?, ?, ?)')
  const usernames = db.prepare<[], string>('SELECT username FROM users').pluck()
  const roomKeys = db.prepare<[], { id: number, name_key: string }>('SELECT id, name_key FROM rooms ORDER BY id')
  const insertUser = db.prepare<[string, string, string], { id: number }>(
    'INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id')
  const insertRoom = db.prepare<[string, string, string, string], { id: number }>(
    'INSERT INTO rooms (name, name_key, topic, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id')

  const addUsers = db.transaction((source: string, users: readonly ImportedUser[]): number[] => users.map((user) => {
    const row = insertUser.get(user.username, user.passwordHash, user.createdAt)
    if (row === undefined) throw new ImportConflictError(`The user name ${user.username}`)
    remember.run(source, 'user', user.sourceId, row.id)
    return row.id
  }))

  const addRooms = db.transaction((source: string, rooms: readonly ImportedRoom[]): number[] => rooms.map((room) => {
    let id: number
    if ('mergeInto' in room) {
      id = room.mergeInto
    } else {
      const row = insertRoom.get(room.name, roomNameKey(room.name), room.topic, room.createdAt)
      if (row === undefined) throw new ImportConflictError(`The room name ${room.name}`)
      id = row.id
    }
    remember.run(source, 'room', room.sourceId, id)
    return id
  }))

  const addMessages = db.transaction((source: string, batch: readonly ImportedMessage[]): void => {
    const files = batch.flatMap((item) => item.files)
    if (files.length > 0) media.add(files)
    // Nested in this transaction, the repo's batch becomes a savepoint: all of it commits, or none.
    const results = messages.insertBatch(batch.map((item) => item.message))
    results.forEach((result, i) => {
      const item = batch[i]!
      if (!result.ok) throw result.error
      const id = result.value.message.id
      if (item.files.length > 0) media.link(id, item.files.map((f) => f.name))
      remember.run(source, 'message', item.sourceId, id)
    })
  })

  // Synchronous underneath: each answer is already settled when it is returned.
  return {
    imported: async (source, kind) => new Map(mapped.all(source, kind).map((row) => [row.source_id, row.target_id])),
    usernames: async () => usernames.all(),
    roomKeys: async () => roomKeys.all().map((row) => ({ id: row.id, key: row.name_key })),
    addUsers: async (source, users) => addUsers.immediate(source, users),
    addRooms: async (source, rooms) => addRooms.immediate(source, rooms),
    addMessages: async (source, batch) => { addMessages.immediate(source, batch) }
  }
}
