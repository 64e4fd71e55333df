// The storage module: the only code that knows SQL. Routes and the hub see this typed interface,
// so another backend (PostgreSQL) can stand in without them seeing SQL. The interface is
// synchronous (better-sqlite3); an asynchronous backend would turn its methods into promises and
// its callers would await them.
import type { FernetRing } from '../crypto/fernet.js'
import { openDatabase, type Db, type OpenOptions } from './database.js'
import { createMediaRepo } from './media.js'
import { createMessagesRepo } from './messages.js'
import { createReadsRepo } from './reads.js'
import { createRoomsRepo } from './rooms.js'
import { createTokensRepo } from './tokens.js'
import { createUnreadableRows } from './unreadable.js'
import { createUsersRepo } from './users.js'

export { KeyMismatchError } from './database.js'
export type { MediaRecord } from './media.js'
export { RoomMissingError, type InsertResult } from './messages.js'
export { isStorageFull, isStorageLocked, whenUnlocked } from './failures.js'
export type * from './types.js'

export interface StorageOptions extends OpenOptions {
  /** Called once per stored row that no key decrypts, the first time it is read. */
  onUnreadable?: (where: string) => void
}

export function createStorage (db: Db, ring: FernetRing, options: StorageOptions = {}) {
  const ping = db.prepare('SELECT 1').pluck()
  const unreadable = createUnreadableRows(options.onUnreadable)
  return {
    users: createUsersRepo(db),
    rooms: createRoomsRepo(db),
    messages: createMessagesRepo(db, ring, unreadable),
    tokens: createTokensRepo(db),
    reads: createReadsRepo(db),
    media: createMediaRepo(db, ring, unreadable),
    /** Distinct stored rows seen since start that no key decrypts (GET /api/health). */
    unreadableRows: unreadable.count,
    /** True when the database answers a query. */
    healthy (): boolean {
      try {
        return ping.get() === 1
      } catch {
        return false
      }
    },
    close (): void {
      if (db.open) db.close()
    }
  }
}

export type Storage = ReturnType<typeof createStorage>

export function openStorage (path: string, ring: FernetRing, options: StorageOptions = {}): Storage {
  return createStorage(openDatabase(path, ring, options), ring, options)
}
